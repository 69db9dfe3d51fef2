"""The HTTP API: Meta's public webhook routes and the IAM-authorised ``/v1/*`` routes."""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge
from infra.topology import Topology

WEBHOOK_PATH = "/webhook"
V1_PROXY_PATH = "/v1/{proxy+}"

# No query strings or bodies: the webhook handshake carries the verify token in the query.
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS))


class Api(Construct):
    """IAM is the API's default authoriser; only the webhook routes opt out of it."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: Topology,
        api_function: lambda_.IFunction,
        webhook_function: lambda_.IFunction,
        throttle_rate: int,
        throttle_burst: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=topology.api_name,
            description="pixy-whatsapp: send API (/v1, IAM) and Meta webhook (/webhook)",
            default_authorizer=authorizers.HttpIamAuthorizer(),
            create_default_stage=False,
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            # Meta retries webhooks it could not deliver, and IAM callers back off on 429,
            # so a stage-wide cap protects the account's Lambda concurrency from floods.
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
            access_log_settings=_AccessLogs(access_logs),
        )

        webhook = integrations.HttpLambdaIntegration("Webhook", webhook_function)
        self.webhook_routes = self.http_api.add_routes(
            path=WEBHOOK_PATH,
            methods=[apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
            integration=webhook,
            # Meta cannot sign requests with AWS credentials: the handler checks the verify
            # token (GET) and the X-Hub-Signature-256 HMAC of the raw body (POST) instead.
            authorizer=apigwv2.HttpNoneAuthorizer(),
        )
        for route in self.webhook_routes:
            acknowledge(
                route,
                "APIG4",
                "Meta calls this route and cannot authenticate to AWS; every request is "
                "authenticated in the handler (verify token on GET, HMAC-SHA256 signature "
                "with the app secret on POST, constant-time compare) before any processing.",
            )
        self.v1_routes = self.http_api.add_routes(
            path=V1_PROXY_PATH,
            methods=[apigwv2.HttpMethod.ANY],
            integration=integrations.HttpLambdaIntegration("SendApi", api_function),
        )

    @property
    def url(self) -> str:
        return self.stage.url

    @property
    def webhook_url(self) -> str:
        return f"{self.stage.url.rstrip('/')}{WEBHOOK_PATH}"
