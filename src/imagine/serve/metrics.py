"""Prometheus metrics of one app (its own registry, so several apps can live in one process, e.g. in tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
BATCH_BUCKETS = (1, 2, 4, 8, 12, 16, 24, 32, 64)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge("imagine_queue_depth", "Generation jobs waiting in the queue.", registry=r)
        self.batch_images = Histogram("imagine_batch_images", "Images per batched generator call.",
                                      buckets=BATCH_BUCKETS, registry=r)
        self.batch_requests = Histogram("imagine_batch_requests", "Requests per batched generator call.",
                                        buckets=BATCH_BUCKETS, registry=r)
        self.job_latency = Histogram("imagine_job_latency_seconds", "From enqueue to result, per job.",
                                     buckets=LATENCY_BUCKETS, registry=r)
        self.generate_seconds = Histogram("imagine_generate_seconds", "Time inside one batched generator call.",
                                          buckets=LATENCY_BUCKETS, registry=r)
        self.jobs = Counter("imagine_jobs_total", "Finished jobs by final status.", ["status"], registry=r)
        self.refusals = Counter("imagine_refusals_total", "Prompts refused by the policy, by category.",
                                ["category"], registry=r)
        self.output_blocked = Counter("imagine_output_blocked_total", "Images withheld by the output guard, by flag.",
                                      ["flag"], registry=r)
        self.preemptions = Counter("imagine_preemptions_total", "Batches paused between steps to run another "
                                   "user's waiting batch.", registry=r)
        self.rejected = Counter("imagine_rejected_total", "Requests answered 429/451/503, by error code.", ["code"],
                                registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
