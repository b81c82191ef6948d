"""Runtime wiring: the loaded modules (registry), Redis locks and journals put together
(runtime), and the flow runner the Celery tasks call."""
