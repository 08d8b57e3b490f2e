"""Celery tasks of billing: fetch ids, call a service; nothing else."""

from celery import shared_task

from billing.services import billing_run_execute


@shared_task(name="billing.run")
def billing_run_task(run_id: int) -> dict:
    """Bill a run's accounts from its cursor to the end (or until it is cancelled)."""
    run = billing_run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "done": run.done_accounts}


@shared_task(name="billing.receipts_email")
def receipts_email_task(run_id: int) -> int:
    """E-mail the receipts of a run's issued bills (customers with an address)."""
    from billing.receipts import receipts_email

    return receipts_email(run_id=run_id)


@shared_task(name="billing.delinquency_refresh")
def delinquency_refresh_task() -> dict:
    """Nightly: the past-due snapshot, then the delinquency zones drawn from it."""
    from billing.delinquency import delinquency_refresh, zones_refresh

    accounts = delinquency_refresh()
    return {"accounts": accounts, "zones": zones_refresh()}
