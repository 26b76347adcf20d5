// Every Prometheus metric name Headroom emits or queries, in one place. Services
// register them with prom-client; prometheus/rules and grafana/dashboards query only these.

export const BACKEND_METRICS = {
  requests: 'headroom_backend_requests_total',
  loadDuration: 'headroom_backend_load_duration_seconds',
  burnerActive: 'headroom_backend_cpu_burner_active',
  burnerThreads: 'headroom_backend_cpu_burner_threads',
  burnerDuty: 'headroom_backend_cpu_burner_duty_ratio',
  memoryHeld: 'headroom_backend_memory_held_bytes',
  /** CPU cores the process may use (cgroup limit, else host cores): the denominator of utilization. */
  cpuLimit: 'headroom_backend_cpu_limit_cores',
  /** Memory the process may use (cgroup limit, else host memory). */
  memoryLimit: 'headroom_backend_memory_limit_bytes',
  /**
   * Seconds the event loop was busy (performance.eventLoopUtilization().active), a counter:
   * its rate is the event-loop utilization 0..1. Request work runs on that one thread, so a
   * saturated backend reads ~1 whatever the core count; utilization = max(CPU used / CPU limit,
   * this rate).
   */
  eventLoopActive: 'headroom_backend_event_loop_active_seconds_total',
} as const;

export const LB_METRICS = {
  requests: 'headroom_lb_requests_total',
  requestDuration: 'headroom_lb_request_duration_seconds',
  inFlight: 'headroom_lb_backend_in_flight',
  backendHealthy: 'headroom_lb_backend_healthy',
  backendScore: 'headroom_lb_backend_score',
  backendCpu: 'headroom_lb_backend_cpu_ratio',
  backendMemory: 'headroom_lb_backend_memory_ratio',
  backendWeight: 'headroom_lb_backend_weight',
  backendEffectiveWeight: 'headroom_lb_backend_effective_weight',
  backends: 'headroom_lb_backends',
  mode: 'headroom_lb_mode',
  retries: 'headroom_lb_retries_total',
  upstreamErrors: 'headroom_lb_upstream_errors_total',
  /** Backend state changes (ejected, unhealthy, healthy, draining, drained, removed, …) by `to` and `reason` code. */
  backendTransitions: 'headroom_lb_backend_transitions_total',
  /** 1 while discovery reaches a DOCKER_HOSTS engine, 0 while it keeps that engine's last backends. */
  discoveryEngineUp: 'headroom_lb_discovery_engine_up',
  /** Scale to zero: 1 for the service's current state (`state` label: awake, waking, sleeping). */
  serviceState: 'headroom_lb_service_state',
  /**
   * Requests held now for a sleeping or waking service: the `cause="hold"` part of queueDepth
   * while it sleeps or wakes (the hold is the service queue, issue #26), kept under this name.
   */
  heldRequests: 'headroom_lb_held_requests',
  /**
   * The service's one queue (issue #26): requests waiting now, per `service` and `cause`
   * (limit: for a backend under its concurrency limit; hold: while the service sleeps or
   * wakes). The autoscaler counts them as demand (GET /api/backends `queue`).
   */
  queueDepth: 'headroom_lb_queue_depth',
  /** Time a request waited in the service queue before a backend took it, per `service` and `cause`. */
  queueWait: 'headroom_lb_queue_wait_seconds',
  /**
   * Requests that left the queue without a backend, per `service`, `cause` and `reason`: full,
   * predicted-wait, timeout, hold-timeout (503 + Retry-After), client-gone, shutdown, and
   * waiting-page (a browser shown the HOLD_HTML_PAGE page instead of being held).
   */
  queueShed: 'headroom_lb_queue_shed_total',
  /** Each backend's concurrency limit now (lb.maxconn, else the adaptive one). */
  backendLimit: 'headroom_lb_backend_concurrency_limit',
  /**
   * Per replica (labels `service`, `replica`, `backend`), needing nothing from the app: the
   * integral of its in-flight requests over time, a counter whose rate() is the time-averaged
   * concurrency over the window (Knative's average concurrent requests), from dispatch to last byte.
   */
  replicaBusySeconds: 'headroom_lb_replica_busy_seconds_total',
  /** Per replica: the container's CPU time from the engine's stats (its cgroup's usage), a counter. */
  replicaCpuSeconds: 'headroom_lb_replica_cpu_seconds_total',
  /** Per replica: the cores it may use: its CPU limit, else the host's online cores. */
  replicaCpuLimit: 'headroom_lb_replica_cpu_limit_cores',
  /** Per replica: its working set (memory use less reclaimable page cache), bytes. */
  replicaMemory: 'headroom_lb_replica_memory_bytes',
  /** Per replica: the memory it may use: its limit, else the host's memory, bytes. */
  replicaMemoryLimit: 'headroom_lb_replica_memory_limit_bytes',
  /** TLS: certificate pairs in use from TLS_CERT_DIR. */
  tlsCertificates: 'headroom_lb_tls_certificates',
  /** TLS: a pair that could not be (re)loaded (unreadable, not PEM, key not matching); the previous one stays in use. By `file` (the pair's base name). */
  tlsCertErrors: 'headroom_lb_tls_certificate_errors_total',
  /** TLS: notAfter of each certificate in use, unix seconds, by `file`: alert on it minus time(). */
  tlsCertExpiry: 'headroom_lb_tls_certificate_expiry_timestamp_seconds',
} as const;

export const AUTOSCALER_METRICS = {
  desiredReplicas: 'headroom_autoscaler_desired_replicas',
  currentReplicas: 'headroom_autoscaler_current_replicas',
  readyReplicas: 'headroom_autoscaler_ready_replicas',
  metricValue: 'headroom_autoscaler_metric_value',
  metricTarget: 'headroom_autoscaler_metric_target',
  scaleEvents: 'headroom_autoscaler_scale_events_total',
  errors: 'headroom_autoscaler_errors_total',
  paused: 'headroom_autoscaler_paused',
  /** 1 while the service sleeps (scaled to zero, issue #19). */
  sleeping: 'headroom_autoscaler_sleeping',
  tickDuration: 'headroom_autoscaler_tick_duration_seconds',
} as const;

/** Recording rules in prometheus/rules: per-replica series the autoscaler reads by default. */
export const RECORDED_SERIES = {
  /** CPU used / CPU limit per replica, 0..1 (and above when over limit briefly). */
  replicaCpuUtilization: 'headroom:replica_cpu_utilization:ratio',
  /** Resident memory / memory limit per replica. */
  replicaMemoryUtilization: 'headroom:replica_memory_utilization:ratio',
  /** Requests per second per replica, as the balancer counts them (any app). */
  replicaRequestRate: 'headroom:replica_requests:rate1m',
  /** Time-averaged requests in flight per replica, as the balancer counts them (any app). */
  replicaConcurrency: 'headroom:replica_concurrency:avg',
} as const;

/** Label names used on the series above. */
export const METRIC_LABELS = {
  /** On every balancer per-backend series: the backend's id (stable across renames; what joins). */
  backend: 'backend',
  /** On every balancer per-backend series, beside `backend`: the container, task or URL name. */
  backendName: 'backend_name',
  /** New state of a backend transition. */
  to: 'to',
  service: 'service',
  instance: 'instance',
  /** Container (or process) name of a replica: scrape configs set it so the autoscaler can match series to replicas. */
  replica: 'replica',
  method: 'method',
  status: 'status',
  reason: 'reason',
  mode: 'mode',
  route: 'route',
  direction: 'direction',
  metric: 'metric',
  kind: 'kind',
} as const;
