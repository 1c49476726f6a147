"""Background tasks (django-tasks, database backend): thin wrappers around services."""

from django_tasks import task


@task()
def contact_import_task(*, import_id: int) -> None:
    from . import services

    services.contact_import_run(import_id=import_id)


@task()
def campaign_dispatch_task(*, campaign_id: int) -> str:
    from . import services

    return services.campaign_dispatch(campaign_id=campaign_id, max_seconds=300)


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
