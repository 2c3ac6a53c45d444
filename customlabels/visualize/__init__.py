"""Pictures of results (boxes, labels, captions) and the HTML gallery that shows them (`templates/`)."""
