"""The Rekognition Custom Labels emulator served over HTTP: boto3 reaches it and gets the real exception classes."""

import boto3
import pytest

from customlabels.local.emulator.server import serve
from support.aws import MODEL_ARN

pytestmark = pytest.mark.integration


# --- over HTTP, as boto3 sees it -------------------------------------------------------------------------
def test_boto3_reaches_the_emulator_and_gets_the_real_exception_classes(service):
    server = serve(service)
    try:
        client = boto3.client(
            "rekognition", region_name="eu-west-1", endpoint_url=f"http://127.0.0.1:{server.server_address[1]}"
        )
        image = {"S3Object": {"Bucket": "images", "Name": "bee.jpg"}}
        with pytest.raises(client.exceptions.ResourceNotReadyException):
            client.detect_custom_labels(ProjectVersionArn=MODEL_ARN, Image=image)
        service.start_delay = 0
        assert client.start_project_version(ProjectVersionArn=MODEL_ARN, MinInferenceUnits=1)["Status"] == "STARTING"
        labels = client.detect_custom_labels(ProjectVersionArn=MODEL_ARN, Image=image, MinConfidence=50)["CustomLabels"]
        assert labels == [{"Name": "bee", "Confidence": 91.0}, {"Name": "flower", "Confidence": 62.0}]
        service.faults = {"InternalServerError": 1.0}
        with pytest.raises(client.exceptions.InternalServerError) as raised:
            client.detect_custom_labels(ProjectVersionArn=MODEL_ARN, Image=image)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    finally:
        server.shutdown()
