"""Reading a page in the headless browser (the `browser` fixture) without racing its loading."""


def image_widths(page, selector: str) -> list[int]:
    """The natural widths of the images `selector` finds, read once each has a source and has loaded or failed:
    a browser loads images asynchronously, so reading them earlier races with the loading (0 for one that failed).
    The wait's deadline only bounds a hang."""
    settled = "selector => [...document.querySelectorAll(selector)].every(i => i.currentSrc && i.complete)"
    page.wait_for_function(settled, arg=selector, timeout=120_000)
    return page.locator(selector).evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
