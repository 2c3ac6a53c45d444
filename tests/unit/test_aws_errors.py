"""The one reading of an AWS error's code and message (`contract.error_code`, `contract.error_message`), on the
errors botocore itself raises, and the rule that nothing else reads them."""

import re

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from customlabels_runtime.contract import error_code, error_message
from support.project import ROOT

pytestmark = pytest.mark.unit


def raised_by_botocore(code: str, message: str, status: int = 400) -> ClientError:
    ssm = boto3.client("ssm", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ssm) as stubber:
        stubber.add_client_error(
            "get_parameter", service_error_code=code, service_message=message, http_status_code=status
        )
        with pytest.raises(ClientError) as raised:
            ssm.get_parameter(Name="/state")
    return raised.value


@pytest.mark.parametrize(
    ("code", "status"), [("ParameterNotFound", 400), ("ThrottlingException", 400), ("InternalServerError", 500)]
)
def test_the_code_and_message_of_what_botocore_raises(code, status):
    error = raised_by_botocore(code, "it said why", status)
    assert (error_code(error), error_message(error)) == (code, "it said why")


def test_an_error_without_a_code_or_message_says_unknown_and_nothing():
    assert (error_code(ClientError({"Error": {}}, "GetParameter")), error_message(ClientError({}, "Get"))) == (
        "Unknown",
        "",
    )
    assert error_code(ValueError("not from AWS")) == "Unknown"


def test_no_other_module_reads_an_aws_errors_response():
    """Result documents have an `Error` too (`document.get("Error")`): only a ClientError's `.response` is ruled."""
    reading = re.compile(r"""\.response(\.get\(|\[)["']Error["']""")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("customlabels", "customlabels_runtime", "stacks", "bench", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "contract.py" and reading.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
