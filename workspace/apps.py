from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The agent and supervisor workspace: the desk pages under /agent/ (customer search,
    onboarding, account actions, counter operations, reversals, the approval queue, bulk imports,
    agent management). Pages call the banking and identity services, never the other way round."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "workspace"
    verbose_name = "Agent workspace"
