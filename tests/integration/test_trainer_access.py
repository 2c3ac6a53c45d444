"""ModelTrainerPolicyArn allows every call `customlabels model train` makes, and what training does on the caller's
behalf, and nothing beside: the calls are recorded from a real run against the emulator (botocore's events, the
emulator's S3 reader and writer), each mapped to its IAM action and resource, and judged by principalmapper on the
synthesized template's policy (support.iam, checked against AWS's rules in tests/unit/test_iam_evaluator.py)."""

import pytest

from support.aws import ACCOUNT, REGION
from support.cloudformation import concrete_values, pseudo_parameters, resolve, synth_template
from support.emulator import emulated_training
from support.iam import allowed, principal

pytestmark = pytest.mark.integration

BUCKET = "images-bucket"
ACTIONS = {"rekognition": "rekognition", "s3": "s3", "cloudformation": "cloudformation"}


@pytest.fixture(scope="module")
def trainer_policy(tmp_path_factory):
    """The trainer policy and the key's ARN, concrete (the bucket named BUCKET)."""
    template = synth_template(tmp_path_factory.mktemp("trainer")).to_json()
    resources = template["Resources"]
    [bucket] = [i for i, r in resources.items() if r["Type"] == "AWS::S3::Bucket" and i.startswith("StorageImages")]
    [policy] = [i for i in resources if i.startswith("ClientPoliciesModelTrainer")]
    values = concrete_values(template, {bucket: BUCKET})
    document = resolve(resources[policy]["Properties"]["PolicyDocument"], values, pseudo_parameters())
    key = next(v for (_, attribute), v in values.items() if attribute == "Arn" and v.startswith("arn:aws:kms:"))
    assert "ModelTrainerPolicyArn" in template["Outputs"]
    return principal(f"arn:aws:iam::{ACCOUNT}:user/trainer", document), key


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    world = emulated_training(monkeypatch, tmp_path, BUCKET, REGION)
    run, service, _, manifest, calls = next(world)
    assert run("--bucket", BUCKET, "--project", "bees", "--train-manifest", manifest, "--auto-split") == 0
    yield service, calls.made
    next(world, None)


def permissions(service, made, key):
    """(action, resource, context) of each call: its IAM action, the ARN it acts on, and for S3 objects the key's use
    through S3 that SSE-KMS adds."""
    [project] = service.projects.values()
    needed = []
    for service_name, operation, params in made:
        action = f"{ACTIONS[service_name]}:{operation}"
        if service_name == "s3":
            needed.append((action, f"arn:aws:s3:::{params['Bucket']}/{params['Key']}", {}))
            use = "kms:GenerateDataKey" if operation == "PutObject" else "kms:Decrypt"
            needed.append((use, key, {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}))
        elif operation == "DescribeProjects":
            needed.append((action, "*", {}))
        elif operation == "CreateProject":
            needed.append((action, project.arn, {}))
        elif operation == "DistributeDatasetEntries":
            needed += [(action, dataset["Arn"], {}) for dataset in params["Datasets"]]
        else:
            arn = params.get("DatasetArn") or params.get("ProjectArn") or params["ProjectVersionArn"]
            needed.append((action, arn, {}))
    return needed


def test_the_trainer_policy_allows_every_call_model_train_and_its_training_make(trainer_policy, recorded):
    trainer, key = trainer_policy
    service, made = recorded
    needed = permissions(service, made, key)
    assert {action for action, _, _ in needed} >= {
        "rekognition:CreateProject",
        "rekognition:CreateDataset",
        "rekognition:DistributeDatasetEntries",
        "rekognition:CreateProjectVersion",
        "rekognition:DescribeProjectVersions",
        "s3:PutObject",
        "s3:GetObject",
    }
    refused = [
        (action, resource) for action, resource, context in needed if not allowed(trainer, action, resource, **context)
    ]
    assert refused == []


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("rekognition:CreateProjectVersion", f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/wasps/1615479933000"),
        ("rekognition:DetectCustomLabels", f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/version/v1/1"),
        ("rekognition:StartProjectVersion", f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/version/v1/1"),
        ("rekognition:DeleteProject", f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/1615479933000"),
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/test_images/forged.jpg"),
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/test_images/bee.jpg.json"),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/test_images/bee.jpg.json"),
        ("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/training/v1/train.manifest"),
        ("s3:PutObject", "arn:aws:s3:::another-bucket/training/v1/train.manifest"),
    ],
)
def test_the_trainer_policy_allows_nothing_beside(trainer_policy, action, resource):
    trainer, _ = trainer_policy
    assert not allowed(trainer, action, resource)


def test_the_key_is_usable_through_s3_only(trainer_policy):
    trainer, key = trainer_policy
    assert allowed(trainer, "kms:Decrypt", key, **{"kms:ViaService": f"s3.{REGION}.amazonaws.com"})
    assert not allowed(trainer, "kms:Decrypt", key, **{"kms:ViaService": f"sqs.{REGION}.amazonaws.com"})
    assert not allowed(trainer, "kms:Decrypt", key)
