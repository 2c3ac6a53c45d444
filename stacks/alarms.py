"""The pipeline's one kind of alarm, a metric above a threshold in one period, and the metrics its functions
publish, as the alarms and the dashboard read them."""

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from customlabels_runtime import contract
from customlabels_runtime.contract import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)
"""The period of the pipeline's metrics on the dashboard and in the alarms that read them."""


def pipeline_metric(
    name: str,
    statistic: str = "Sum",
    service: str = contract.INFERENCE_SERVICE,
    dimensions: Mapping[str, str] | None = None,
) -> cloudwatch.Metric:
    """One of the metrics a function publishes (`contract`'s names), by its Powertools service and any dimension
    of its own (`ImagesFailed`'s `ErrorCode`)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        statistic=statistic,
        dimensions_map={**(dimensions or {}), "service": service},
        period=PERIOD,
    )


def alarm_above(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    metric: cloudwatch.IMetric,
    threshold: float = 0,
    missing_data_breaches: bool = False,
) -> cloudwatch.Alarm:
    """Alarms as soon as `metric` exceeds `threshold` in one evaluation period. Missing data is fine by default
    (a quiet pipeline is a healthy one); `missing_data_breaches` for a metric whose silence is the failure."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=(
            cloudwatch.TreatMissingData.BREACHING
            if missing_data_breaches
            else cloudwatch.TreatMissingData.NOT_BREACHING
        ),
    )
