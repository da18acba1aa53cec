//! Shared by the integration tests: the Tally service on a real socket.

use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use urna_admin::AdminToken;
use urna_proto::v1::tally_client::TallyClient;
use urna_store::SqliteStore;
use urna_tally::{Tally, service};

/// Serves `tally` on 127.0.0.1 with a fresh admin token; a connected client.
pub async fn serve(tally: &Tally<SqliteStore>) -> (TallyClient<Channel>, AdminToken) {
    let token = AdminToken::generate().unwrap();
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = incoming.local_addr().unwrap();
    tokio::spawn(
        Server::builder()
            .add_service(service(tally.clone(), token.clone()))
            .serve_with_incoming(incoming),
    );
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    (TallyClient::new(channel), token)
}
