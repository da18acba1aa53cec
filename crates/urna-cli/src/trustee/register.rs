//! Registration: the election admin registers a trustee's public keys under an index
//! (RegisterTrustee, with the admin token), and the share file records the election,
//! its fingerprint and the index.

use anyhow::{Context as _, Result, bail};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use urna_proto::v1 as pb;
use urna_proto::v1::tally_client::TallyClient;

use super::share_file::ShareFile;

/// Registers trustee `file` as trustee `index` of `election` with the admin token
/// `admin_token`, then records the registration in the file (saved). Registering
/// the same keys again is a no-op; a file registered elsewhere is refused. Returns
/// how many trustees are registered.
pub async fn register(
    tally: &mut TallyClient<Channel>,
    file: &mut ShareFile,
    election: &str,
    index: u32,
    admin_token: &str,
) -> Result<u32> {
    let public = file.public().clone();
    let elsewhere = public.election.as_deref().is_some_and(|e| e != election)
        || public.index.is_some_and(|i| i != index);
    if elsewhere {
        bail!(
            "{} is already registered as trustee {} of {}",
            file.path().display(),
            public.index.unwrap_or_default(),
            public.election.unwrap_or_default()
        );
    }
    let mut request = tonic::Request::new(pb::RegisterTrusteeRequest {
        election_id: election.to_owned(),
        trustee_index: index,
        name: public.name.clone(),
        signing_key: hex::decode(&public.signing_key)?,
        encryption_key: hex::decode(&public.encryption_key)?,
    });
    let auth: MetadataValue<_> = format!("Bearer {admin_token}")
        .parse()
        .context("the admin token is not valid header text")?;
    request.metadata_mut().insert("authorization", auth);
    let registered = tally
        .register_trustee(request)
        .await
        .context("registering the trustee")?
        .into_inner()
        .registered;
    let state = tally
        .get_ceremony_state(pb::GetCeremonyStateRequest {
            election_id: election.to_owned(),
        })
        .await
        .context("reading the ceremony's state")?
        .into_inner();
    let fingerprint: [u8; 32] = state
        .election_fingerprint
        .as_slice()
        .try_into()
        .context("the tally service gave no election fingerprint")?;
    file.set_registration(election, &fingerprint, index);
    file.save()?;
    Ok(registered)
}
