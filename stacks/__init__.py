"""CDK stacks and constructs of the Rekognition Custom Labels S3 inference pipeline."""
