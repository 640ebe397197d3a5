//! Render and decode memory (issue "Safe to deploy 2/2", item 2) through the real hub: a 4 MB
//! RLE file claiming a 16,384 x 16,384 frame is refused by name in case views and in its job,
//! while an ordinary CT still renders; and four parallel views of a large image that fits the
//! per-frame budget are admitted within `imaging.render_memory_bytes`, so the hub's peak memory
//! stays near one render's rather than four.

use std::time::{Duration, Instant};

use e2e::*;
use remotedx_proto::v1 as pb;

/// A valid ID card number (GB 11643 check digit computed, not typed).
fn patient_id() -> String {
    let first17 = "11010519800101123";
    let check = patient_id::check_char(first17).expect("17 digits");
    format!("{first17}{check}")
}

/// Uploads `files` in one session; the case of each accepted file, by SOP Instance UID.
async fn upload(hub: &HubProcess, token: &str, files: &[(&str, Vec<u8>)]) -> Vec<(String, i64)> {
    let mut messages = vec![pb::UploadRequest {
        msg: Some(pb::upload_request::Msg::Options(
            pb::UploadOptions::default(),
        )),
    }];
    for (name, bytes) in files {
        messages.extend(file_messages(name, bytes));
    }
    let mut client = pb::upload_service_client::UploadServiceClient::new(hub.channel().await);
    let mut answers = client
        .upload(authed(tokio_stream::iter(messages), token))
        .await
        .expect("the upload session")
        .into_inner();
    let mut accepted = Vec::new();
    while let Some(answer) = answers.message().await.expect("the hub's answers") {
        match answer.msg {
            Some(pb::upload_response::Msg::Accepted(a)) => {
                accepted.push((a.sop_instance_uid, a.case_id))
            }
            Some(pb::upload_response::Msg::Rejected(r)) => panic!("refused: {r:?}"),
            _ => {}
        }
    }
    accepted
}

/// Renders frame 0 fitted to 512 px; the PNG's size, or the hub's status.
async fn render(
    hub: &HubProcess,
    token: &str,
    case_id: i64,
    sop: &str,
) -> Result<usize, tonic::Status> {
    let mut cases = pb::case_service_client::CaseServiceClient::new(hub.channel().await);
    let request = pb::RenderFrameRequest {
        case_id,
        sop_instance_uid: sop.into(),
        max_size: 512,
        ..Default::default()
    };
    let mut stream = cases
        .render_frame(authed(request, token))
        .await?
        .into_inner();
    let mut bytes = 0;
    while let Some(chunk) = stream.message().await? {
        bytes += chunk.data.len();
    }
    Ok(bytes)
}

/// The case's flags once its job is done (two minutes at most).
async fn flags_when_done(hub: &HubProcess, token: &str, case_id: i64) -> Vec<pb::Flag> {
    let mut cases = pb::case_service_client::CaseServiceClient::new(hub.channel().await);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let detail = cases
            .get_case(authed(pb::GetCaseRequest { case_id }, token))
            .await
            .expect("the case")
            .into_inner()
            .summary
            .expect("the case's summary");
        let busy = [
            pb::CaseState::Receiving,
            pb::CaseState::Received,
            pb::CaseState::Processing,
        ]
        .map(|s| s as i32);
        if !busy.contains(&detail.state) {
            return detail.flags;
        }
        assert!(
            Instant::now() < deadline,
            "case {case_id}'s job did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_budget_is_refused_by_name_in_views_and_jobs_and_a_ct_still_renders() {
    let region = Region::start(&[]);
    let (hub, clinic) = (&region.hub, region.token("clinic_a"));
    let (bomb, bomb_sop) =
        e2e::dicom::rle_image(16_384, "2.25.7161616161", &patient_id(), "BIG^FRAME");
    assert!(bomb.len() < 5 << 20);
    let ct = std::fs::read(corpus().join("dicom/pydicom-test-files/CT_small.dcm")).unwrap();
    let accepted = upload(hub, clinic, &[("big.dcm", bomb), ("ct.dcm", ct)]).await;
    let case_of = |sop: &str| accepted.iter().find(|(s, _)| s == sop).expect("accepted").1;
    let (bomb_case, (ct_sop, ct_case)) = (
        case_of(&bomb_sop),
        accepted
            .iter()
            .find(|(s, _)| *s != bomb_sop)
            .cloned()
            .unwrap(),
    );

    let flags = flags_when_done(hub, clinic, bomb_case).await;
    let flag = flags
        .iter()
        .find(|f| f.code == "image_not_decoded")
        .unwrap_or_else(|| panic!("the job did not refuse the frame: {flags:?}"));
    assert!(flag.message.contains(&bomb_sop), "{}", flag.message);
    assert!(
        flag.message.contains("one frame may take"),
        "{}",
        flag.message
    );

    let refused = render(hub, clinic, bomb_case, &bomb_sop)
        .await
        .expect_err("a 16384 x 16384 frame was rendered");
    assert_eq!(
        refused.code(),
        tonic::Code::FailedPrecondition,
        "{refused:?}"
    );
    let message = refused.message();
    assert!(message.contains(&bomb_sop), "{message}");
    assert!(
        message.contains(
            "decodes to 268435456 bytes, more than the 134217728 bytes one frame may take"
        ),
        "{message}"
    );
    let png = render(hub, clinic, ct_case, &ct_sop)
        .await
        .expect("the CT renders");
    assert!(png > 1000);
    eprintln!("hub peak RSS {} MiB", peak_rss_mib(hub.pid()));
}

/// The hub's peak RSS after four parallel views of one 8,192 x 8,192 frame (64 MiB decoded,
/// within the default per-frame budget) with `render_memory` bytes for renders.
async fn peak_of_four_parallel_views(render_memory: u64) -> u64 {
    let memory = render_memory.to_string();
    let region = Region::start(&[
        ("REMOTEDX_HUB_JOBS__IN_PROCESS", "false"),
        ("REMOTEDX_HUB_IMAGING__RENDER_MEMORY_BYTES", &memory),
    ]);
    let (hub, clinic) = (&region.hub, region.token("clinic_a"));
    let (image, sop) = e2e::dicom::rle_image(8192, "2.25.7181818181", &patient_id(), "BIG^FRAME");
    let case = upload(hub, clinic, &[("large.dcm", image)]).await[0].1;
    let started = Instant::now();
    let view = || render(hub, clinic, case, &sop);
    let (a, b, c, d) = tokio::join!(view(), view(), view(), view());
    for done in [a, b, c, d] {
        done.expect("a view of the large frame");
    }
    let peak = peak_rss_mib(hub.pid());
    eprintln!(
        "render_memory_bytes {render_memory}: four views in {:.1} s, peak RSS {peak} MiB",
        started.elapsed().as_secs_f64()
    );
    peak
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_parallel_views_of_a_large_frame_hold_about_one_render_at_a_time() {
    // 256 MiB admits one render of the 64 MiB frame (estimated at 256 MiB) at a time; 64 GiB
    // admits all four at once, as the hub did before it had a render budget.
    let bounded = peak_of_four_parallel_views(256 << 20).await;
    let unbounded = peak_of_four_parallel_views(64 << 30).await;
    assert!(
        bounded <= 400,
        "peak RSS {bounded} MiB with the render budget"
    );
    assert!(
        bounded * 10 < unbounded * 7,
        "the render budget saved little: {bounded} MiB against {unbounded} MiB"
    );
}
