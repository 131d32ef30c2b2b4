"""Every span name prefix, attribute name and metric name salesbus emits, in one place.

The OpenTelemetry GenAI and messaging conventions are still in development and
their names have changed between releases (``gen_ai.system`` became
``gen_ai.provider.name``; ``messaging.operation`` became
``messaging.operation.type``). Keeping the strings here, rather than importing
``opentelemetry.semconv._incubating`` or spelling them inline, means following
the next rename is a one-file change and a dashboard query can be checked
against one list.
"""

from __future__ import annotations

from typing import Final

# -- instrumentation scope ---------------------------------------------------------

INSTRUMENTATION_NAME: Final = "salesbus"

# -- general -----------------------------------------------------------------------

ERROR_TYPE: Final = "error.type"
EXCEPTION_EVENT: Final = "exception"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
SERVICE_NAME: Final = "service.name"
SERVICE_VERSION: Final = "service.version"

# -- GenAI (agents and model calls) ------------------------------------------------

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
"""All input tokens of the call, cache reads and cache writes included."""
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"

OPERATION_CHAT: Final = "chat"
OPERATION_INVOKE_AGENT: Final = "invoke_agent"
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"

# -- messaging (bus hops) ----------------------------------------------------------

MESSAGING_SYSTEM: Final = "messaging.system"
MESSAGING_DESTINATION_NAME: Final = "messaging.destination.name"
MESSAGING_MESSAGE_ID: Final = "messaging.message.id"
MESSAGING_MESSAGE_CONVERSATION_ID: Final = "messaging.message.conversation_id"
MESSAGING_OPERATION_TYPE: Final = "messaging.operation.type"
MESSAGING_OPERATION_NAME: Final = "messaging.operation.name"
MESSAGING_CONSUMER_GROUP_NAME: Final = "messaging.consumer.group.name"

MESSAGING_SYSTEM_SALESBUS: Final = "salesbus"
"""The in-memory bus; a broker transport passes its own name (``nats``)."""
OPERATION_SEND: Final = "send"
OPERATION_PROCESS: Final = "process"

# -- HTTP (website fetches) --------------------------------------------------------

HTTP_REQUEST_METHOD: Final = "http.request.method"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
URL_FULL: Final = "url.full"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"

# -- salesbus's own attributes -----------------------------------------------------

WORKFLOW_ID: Final = "salesbus.workflow.id"
BATCH_ID: Final = "salesbus.batch.id"
COMPANY: Final = "salesbus.company"
WORKFLOW_RESUMED: Final = "salesbus.workflow.resumed"
WORKFLOW_OUTCOME: Final = "salesbus.workflow.outcome"
STEP_NAME: Final = "salesbus.step.name"
STEP_ATTEMPT: Final = "salesbus.step.attempt"
STEP_OUTCOME: Final = "salesbus.step.outcome"
"""``succeeded``, ``skipped`` or ``failed``."""
STEP_SKIP_OUTCOME: Final = "salesbus.step.skip_outcome"
"""Why a skipped step ended the workflow: ``disqualified``…"""
ERROR_RETRYABLE: Final = "salesbus.error.retryable"
LLM_OPERATION: Final = "salesbus.llm.operation"
"""The provider method behind a chat span: ``research``, ``analyze``, ``personalize``."""
LLM_CALLS: Final = "salesbus.llm.calls"
"""Model round trips inside one provider call (a repair attempt makes two)."""
LLM_COST_USD: Final = "salesbus.llm.cost_usd"

# -- span names --------------------------------------------------------------------


def workflow_span_name(company: str, *, resumed: bool = False) -> str:
    return f"workflow {company} (resumed)" if resumed else f"workflow {company}"


def agent_span_name(agent: str) -> str:
    return f"{OPERATION_INVOKE_AGENT} {agent}"


def chat_span_name(model: str) -> str:
    return f"{OPERATION_CHAT} {model}"


def send_span_name(event_type: str) -> str:
    return f"{OPERATION_SEND} {event_type}"


def process_span_name(event_type: str) -> str:
    return f"{OPERATION_PROCESS} {event_type}"


# -- metrics -----------------------------------------------------------------------

METRIC_WORKFLOWS_FINISHED: Final = "salesbus.workflow.finished"
METRIC_WORKFLOWS_ACTIVE: Final = "salesbus.workflow.active"
METRIC_STEP_DURATION: Final = "salesbus.step.duration"
METRIC_STEP_ATTEMPTS: Final = "salesbus.step.attempts"
METRIC_STEP_RETRIES: Final = "salesbus.step.retries"
METRIC_STEP_TOKENS: Final = "salesbus.step.tokens"
METRIC_STEP_COST: Final = "salesbus.step.cost"
METRIC_LLM_TOKENS: Final = "salesbus.llm.tokens"
METRIC_LLM_COST: Final = "salesbus.llm.cost"
