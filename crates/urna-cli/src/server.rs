//! Running the services: each tier is its own gRPC server on its own listener (even
//! when they share a process), every listener behind TLS unless plain text was
//! explicitly asked for, all over one store.
//!
//! The `casting` role also serves the board, admin and tally APIs (all append to the
//! board) and the public HTTP API (which casts in-process). On the embedded store the
//! board's sequencer must run in exactly one process, so there is one `casting`
//! process; `auth` and `issuance` may run as separate processes over the same data
//! directory. On PostgreSQL any number of processes of any role share the database:
//! the store's writer lease elects each board's one sequencer among the `casting`
//! replicas and another takes over when it goes away.
//!
//! Every process also runs the operations listener (`ops`: health, readiness and
//! Prometheus metrics, plain text; see [`ops`]), and every gRPC call is timed by
//! [`rpc`]'s layer.

pub mod config;
pub mod http;
pub mod metrics;
pub mod ops;
pub mod rpc;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use urna_admin::{Admin, AdminConfig, AdminToken};
use urna_auth::{Auth, AuthConfig, LoginLimiter, RedisLimiter, SessionKey};
use urna_board::SequencerConfig;
use urna_casting::{Casting, CastingConfig};
use urna_issuance::Issuance;
use urna_service::{Boards, Clock, Elections, SystemClock};
use urna_store::{PgStore, SqliteStore, Store};
use urna_tally::{Deadlines, RoundDeadlines, Tally};

pub use config::{Backend, Config, RedisSettings};
use metrics::Metrics;
use ops::Ops;
use rpc::RpcMetricsLayer;
use tls::TlsIdentity;

/// Which tiers a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// The auth tier (voter login, blind signing).
    Auth,
    /// The issuance tier (signed ballot styles).
    Issuance,
    /// The casting tier, with the board, admin, tally and public HTTP APIs (the
    /// boards' sequencers: the one process on the embedded store, the lease holder
    /// among replicas on PostgreSQL).
    Casting,
    /// Every tier, each on its own listener.
    All,
}

impl Role {
    fn runs(self, tier: Role) -> bool {
        self == Role::All || self == tier
    }

    /// The default `service.name` of the process's telemetry: `urna-<role>`.
    #[must_use]
    pub fn service_name(self) -> String {
        let role = match self {
            Role::Auth => "auth",
            Role::Issuance => "issuance",
            Role::Casting => "casting",
            Role::All => "all",
        };
        format!("urna-{role}")
    }
}

/// The addresses the servers listen on (ports resolved when 0 was asked for).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Bound {
    /// Auth gRPC.
    pub auth: Option<SocketAddr>,
    /// Issuance gRPC.
    pub issuance: Option<SocketAddr>,
    /// Casting gRPC.
    pub casting: Option<SocketAddr>,
    /// Board gRPC.
    pub board: Option<SocketAddr>,
    /// Admin gRPC.
    pub admin: Option<SocketAddr>,
    /// Tally gRPC (key ceremony and decryption).
    pub tally: Option<SocketAddr>,
    /// The public HTTP API.
    pub http: Option<SocketAddr>,
    /// The operations listener (health, readiness, metrics).
    pub ops: Option<SocketAddr>,
}

/// Running servers; [`Running::stop`] drains them.
pub struct Running<S = SqliteStore> {
    /// Where each server listens.
    pub bound: Bound,
    /// The store the servers share (for `urna dev`'s set-up).
    pub store: S,
    /// The board registry (present when the casting role runs).
    pub boards: Option<Boards<S>>,
    metrics: Metrics,
    stop: watch::Sender<bool>,
    tasks: JoinSet<Result<()>>,
}

impl<S: Store> Running<S> {
    /// Waits for a server to fail (an error) or for `shutdown` to resolve, then
    /// stops every server, lets in-flight calls finish and closes the boards.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let outcome = tokio::select! {
            () = shutdown => Ok(()),
            Some(done) = self.tasks.join_next() => match done {
                Ok(Ok(())) => Err(anyhow::anyhow!("a server stopped unexpectedly")),
                Ok(Err(e)) => Err(e),
                Err(e) => Err(e.into()),
            },
        };
        self.stop().await;
        outcome
    }

    /// Stops every server and closes the boards (integrating what is queued).
    pub async fn stop(&mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        if let Some(boards) = &self.boards {
            boards.shutdown().await;
        }
        self.metrics.shutdown();
    }
}

/// Runs the servers of `role` on the backend `config` names until SIGINT/SIGTERM,
/// then drains.
///
/// # Errors
/// As [`start_with`], or if the store cannot be opened or a server fails.
pub async fn serve(
    config: &Config,
    role: Role,
    tls: Option<TlsIdentity>,
    admin_token: AdminToken,
) -> Result<()> {
    match config.store.backend {
        Backend::Embedded => {
            let running = start(config, role, tls, admin_token).await?;
            running.run_until(shutdown_signal()).await
        }
        Backend::Postgres => {
            let session_key = session_key(config)?;
            // The connection string may hold a password: not in the error.
            let store = PgStore::connect(config.store.postgres_url()?, config.store.pool)
                .await
                .context("connecting to the PostgreSQL store")?;
            let running =
                start_with(store.clone(), session_key, config, role, tls, admin_token).await?;
            metrics::observe_pool(store);
            running.run_until(shutdown_signal()).await
        }
    }
}

/// The session key of `config.session_key_file`, if set.
fn session_key(config: &Config) -> Result<Option<SessionKey>> {
    config
        .session_key_file
        .as_deref()
        .map(config::read_session_key)
        .transpose()
}

/// Opens the embedded store of `config.data_dir` and starts the servers of `role`
/// (`urna dev`, and `urna serve` on the embedded backend).
///
/// # Errors
/// If the configuration is not the embedded backend's, the store cannot be opened
/// or a listener cannot be bound; nothing keeps running then.
pub async fn start(
    config: &Config,
    role: Role,
    tls: Option<TlsIdentity>,
    admin_token: AdminToken,
) -> Result<Running<SqliteStore>> {
    if config.store.backend != Backend::Embedded {
        bail!("this configuration's store is not the embedded one");
    }
    let session_key = session_key(config)?;
    let data_dir = config
        .data_dir
        .as_deref()
        .context("data_dir is required for the embedded store")?;
    let store = SqliteStore::open(data_dir)
        .await
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    start_with(store, session_key, config, role, tls, admin_token).await
}

/// Starts the servers of `role` over `store` (any backend), with the Redis fast path
/// of `config` if set; `session_key` (from `config.session_key_file`) MACs session
/// tokens, `None` draws a random one.
///
/// # Errors
/// If `config` has Redis but no session key, a Redis URL is malformed or a listener
/// cannot be bound; nothing keeps running then.
pub async fn start_with<S: Store>(
    store: S,
    session_key: Option<SessionKey>,
    config: &Config,
    role: Role,
    tls: Option<TlsIdentity>,
    admin_token: AdminToken,
) -> Result<Running<S>> {
    tracing::info!(
        backend = ?config.store.backend,
        redis = config.redis.is_some(),
        shared_session_key = session_key.is_some(),
        ?role,
        "starting"
    );
    // Before any tier is built: their instruments are made with them.
    let metrics = Metrics::install(config.telemetry.as_ref(), &role.service_name())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let auth_config = AuthConfig {
        limits: config.login_limits.into(),
        session_key: session_key.clone(),
        code_params: config.voting_codes.params()?,
        ..AuthConfig::default()
    };
    match (&config.redis, session_key) {
        (Some(redis), Some(key)) => {
            let limiter = RedisLimiter::new(&redis.auth(), auth_config.limits, key)
                .context("redis: invalid url")?;
            let auth = Auth::with_limiter(store.clone(), auth_config, clock, limiter);
            start_tiers(store, auth, config, role, tls, admin_token, metrics).await
        }
        (Some(_), None) => bail!("redis needs session_key_file"),
        (None, _) => {
            let auth = Auth::new(store.clone(), auth_config, clock);
            start_tiers(store, auth, config, role, tls, admin_token, metrics).await
        }
    }
}

/// Builds every tier of `role` over `store`, then binds their listeners.
async fn start_tiers<S: Store, L: LoginLimiter>(
    store: S,
    auth: Auth<S, L>,
    config: &Config,
    role: Role,
    tls: Option<TlsIdentity>,
    admin_token: AdminToken,
    metrics: Metrics,
) -> Result<Running<S>> {
    let (stop, stopped) = watch::channel(false);
    let mut servers = Servers {
        tls,
        stopped,
        tasks: JoinSet::new(),
        bound: Bound::default(),
        ops: Ops::new(metrics.clone()).await,
        rpc: RpcMetricsLayer::new(),
    };
    let boards = role.runs(Role::Casting).then(|| {
        Boards::new(
            store.clone(),
            &config.public_name,
            SequencerConfig::default(),
        )
    });
    let elections = Elections::new(store.clone(), &config.public_name);
    let issuance = Issuance::new(store.clone());
    let casting_config = CastingConfig {
        redis: config.redis.as_ref().map(RedisSettings::casting),
    };
    let casting = boards
        .as_ref()
        .map(|boards| {
            Casting::with_config(
                elections.clone(),
                boards.clone(),
                SystemClock,
                &casting_config,
            )
        })
        .transpose()
        .context("redis: invalid url")?;
    if role.runs(Role::Auth) {
        let addr = servers
            .grpc(
                "auth",
                config.listen.auth,
                urna_auth::grpc::service(auth.clone()),
            )
            .await?;
        servers.bound.auth = Some(addr);
    }
    if role.runs(Role::Issuance) {
        let addr = servers
            .grpc(
                "issuance",
                config.listen.issuance,
                urna_issuance::grpc::service(issuance.clone()),
            )
            .await?;
        servers.bound.issuance = Some(addr);
    }
    if let (Some(boards), Some(casting)) = (&boards, casting) {
        let addr = servers
            .grpc(
                "casting",
                config.listen.casting,
                urna_casting::service(casting.clone()),
            )
            .await?;
        servers.bound.casting = Some(addr);
        let addr = servers
            .grpc(
                "board",
                config.listen.board,
                urna_service::board_grpc::service(boards.clone()),
            )
            .await?;
        servers.bound.board = Some(addr);
        let admin = Admin::new(store.clone(), boards.clone(), admin_config(config)?);
        let addr = servers
            .grpc(
                "admin",
                config.listen.admin,
                urna_admin::service(admin, admin_token.clone()),
            )
            .await?;
        servers.bound.admin = Some(addr);
        let tally = Tally::new(store.clone(), elections.clone(), boards.clone());
        let addr = servers
            .grpc(
                "tally",
                config.listen.tally,
                urna_tally::service(tally.clone(), admin_token),
            )
            .await?;
        servers.bound.tally = Some(addr);
        servers.deadlines(tally);
        let router = urna_http::router(urna_http::Api {
            auth,
            issuance,
            casting,
            boards: boards.clone(),
            store: store.clone(),
        });
        let addr = servers.http(config.listen.http, router).await?;
        servers.bound.http = Some(addr);
    }
    if servers.tasks.is_empty() {
        bail!("no server to run");
    }
    let addr = servers.ops(config.listen.ops, store.clone()).await?;
    servers.bound.ops = Some(addr);
    Ok(Running {
        bound: servers.bound,
        store,
        boards,
        metrics,
        stop,
        tasks: servers.tasks,
    })
}

fn admin_config(config: &Config) -> Result<AdminConfig> {
    Ok(AdminConfig {
        rsa_bits: config.rsa_bits,
        code_params: config.voting_codes.params()?,
        ..AdminConfig::default()
    })
}

/// The servers being started.
struct Servers {
    tls: Option<TlsIdentity>,
    stopped: watch::Receiver<bool>,
    tasks: JoinSet<Result<()>>,
    bound: Bound,
    ops: Ops,
    rpc: RpcMetricsLayer,
}

impl Servers {
    /// Binds `addr` and serves one gRPC service (`name`, for the logs) on it, with
    /// the health service beside it.
    async fn grpc<G>(
        &mut self,
        name: &'static str,
        addr: SocketAddr,
        service: G,
    ) -> Result<SocketAddr>
    where
        G: tower::Service<::http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        G::Response: axum::response::IntoResponse,
        G::Future: Send + 'static,
    {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        self.ops.register(G::NAME).await;
        let routes = Routes::new(service).add_service(self.ops.health());
        let mut builder = Server::builder();
        if let Some(tls) = &self.tls {
            builder = builder.tls_config(tls.grpc())?;
        }
        let router = builder
            .trace_fn(rpc::span)
            .layer(self.rpc.clone())
            .add_routes(routes);
        let stopped = self.stopped.clone();
        self.tasks.spawn(async move {
            router
                .serve_with_incoming_shutdown(
                    TcpIncoming::from(listener).with_nodelay(Some(true)),
                    wait_stop(stopped),
                )
                .await
                .with_context(|| format!("serving {name}"))
        });
        tracing::info!(service = name, %local, "listening");
        Ok(local)
    }

    /// Closes key-ceremony rounds whose deadline passed (a trustee that never answers
    /// cannot stall the ceremony), every few seconds until the servers stop.
    fn deadlines<S: Store>(&mut self, tally: Tally<S>) {
        let stopped = self.stopped.clone();
        self.tasks.spawn(async move {
            Deadlines::new(tally, RoundDeadlines::default())
                .run(&SystemClock, Duration::from_secs(5), wait_stop(stopped))
                .await;
            Ok(())
        });
    }

    /// Binds `addr` and serves the operations listener on it (plain text), with the
    /// readiness probe of `store`; the last listener bound, so readiness can only
    /// follow every other.
    async fn ops<S: Store>(&mut self, addr: SocketAddr, store: S) -> Result<SocketAddr> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        let router = self.ops.router();
        let stopped = self.stopped.clone();
        self.tasks
            .spawn(http::serve(listener, router, None, wait_stop(stopped)));
        let probe = self.ops.clone().probe(store, self.stopped.clone());
        self.tasks.spawn(async move {
            probe.await;
            Ok(())
        });
        tracing::info!(service = "ops", %local, "listening");
        Ok(local)
    }

    /// Binds `addr` and serves the HTTP API on it.
    async fn http(&mut self, addr: SocketAddr, router: axum::Router) -> Result<SocketAddr> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        let tls = self.tls.as_ref().map(TlsIdentity::http).transpose()?;
        let stopped = self.stopped.clone();
        self.tasks
            .spawn(http::serve(listener, router, tls, wait_stop(stopped)));
        tracing::info!(service = "http", %local, "listening");
        Ok(local)
    }
}

/// SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Resolves once a stop is signalled (or the signal's sender is gone).
async fn wait_stop(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
