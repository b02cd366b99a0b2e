//! Capacity advice in the browser (issue 16): a coordinator sees the advice
//! for an overloaded table on the dashboard and adds the advised session
//! with its button; the session is there afterwards.

use fantoccini::Locator;
use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_adds_the_advised_session_from_the_dashboard() {
    let Some(Stage {
        axe,
        app,
        base,
        driver,
        profiles,
    }) = stage().await
    else {
        return;
    };
    let coordinator = app.user(Role::Coordinator, None).await;
    for i in 0..16 {
        let body = json!({
            "case_ref": format!("ADV-{i:03}"), "municipality": "Arnhem", "kind": "vtb",
            "referrer_kind": "local_team", "referrer_org": "Sociaal Team Arnhem",
            "referrer_email": "p@sociaalteam-arnhem.example.org", "safety_plan": true,
            "parents_informed": true, "child_12_plus": false, "cross_region": false,
        });
        let created = app.post(&coordinator, "/api/v1/referrals", &body).await;
        assert_eq!(created.status().as_u16(), 201);
    }
    app.replan().await;
    let count_slots = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM slots WHERE origin = 'extra'")
            .fetch_one(&app.state.store.pool)
            .await
            .expect("count")
    };
    assert_eq!(count_slots().await, 0);

    let client = browser(&driver, &profiles.path().join("coordinator")).await;
    login(&client, &base, &coordinator.email, &coordinator.password).await;
    client
        .goto(&format!("{base}/dashboard"))
        .await
        .expect("dashboard");
    let page = text_with(&client, "Advies: terug binnen de norm").await;
    assert!(page.contains("Centraal Gelderland"), "{page}");
    assert_accessible(&client, &axe, "dashboard with advice").await;
    screenshot(&client, "advice").await;
    client
        .find(Locator::Css(
            "form[action='/dashboard/extra-zitting'] button",
        ))
        .await
        .expect("the advice's button")
        .click()
        .await
        .expect("click");
    let done = text_with(&client, "De extra zitting is toegevoegd").await;
    assert!(done.contains("De extra zitting is toegevoegd"), "{done}");
    assert!(count_slots().await > 0, "the session's slots exist");
    client.close().await.expect("close");
    app.stop().await;
}
