"""Background tasks (django-tasks, database backend): thin wrappers around services."""

from django.utils import timezone
from django_tasks import task


@task()
def contact_import_task(*, import_id: int) -> None:
    from . import services

    services.contact_import_run(import_id=import_id)


@task()
def contact_import_preview_task(*, import_id: int) -> None:
    from . import services

    services.contact_import_count(import_id=import_id)


@task()
def campaign_dispatch_task(*, campaign_id: int) -> str:
    from . import services

    return services.campaign_dispatch(campaign_id=campaign_id, max_seconds=300)


@task()
def do_not_call_block_task(*, change_ids: list[int]) -> dict:
    """Block marked phones at Onurix; those it could not reach are queued again later."""
    from . import services

    run = services.do_not_call_block_at_onurix(change_ids=change_ids)
    if run.retry:
        services.enqueue_block_at_onurix(
            change_ids=run.retry, run_after=timezone.now() + run.retry_in
        )
    return run.as_dict()


@task()
def registry_load_task(*, list_id: int) -> dict:
    """Load an uploaded list of the Registro de Números Excluidos."""
    from . import services

    load = services.registry_load_uploaded(list_id=list_id)
    return {"numbers": load.numbers, "skipped": load.skipped} if load else {}


@task()
def campaigns_sweep_task() -> dict:
    """Runs every minute: the next run is enqueued before this one works."""
    from . import services

    schedule_sweep()
    return services.campaigns_sweep()


def schedule_sweep(*, only_if_missing: bool = False) -> bool:
    """Enqueue the next sweep a minute from now. With `only_if_missing`, do nothing when
    one is already waiting (how a worker's start-up restarts a lost chain)."""
    from datetime import timedelta

    from django.utils import timezone

    backend = campaigns_sweep_task.get_backend()
    if not backend.supports_defer:
        return False
    if only_if_missing:
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=campaigns_sweep_task.module_path, status="READY"
        )
        if waiting.exists():
            return False
    campaigns_sweep_task.using(run_after=timezone.now() + timedelta(seconds=60)).enqueue()
    return True


@task()
def campaign_poll_task(*, campaign_id: int, step: int = 0) -> dict:
    """Read the call states of a campaign once, then queue the next read while phones are
    still sent: sooner while states change, up to 15 minutes apart once they settle."""
    from . import services

    report = services.campaign_poll(campaign_id=campaign_id)
    if report.keep_polling:
        next_step = services.next_poll_step(report=report, step=step)
        services.enqueue_poll(campaign_id=campaign_id, step=next_step)
    return report.as_dict()
