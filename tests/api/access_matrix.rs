//! Stories: the access control matrix. Every endpoint x role x region, from
//! ONE table ([`TABLE`]): for each endpoint, the exact status each role gets
//! for an object in region A (FoodValley) and for one in region B
//! (Achterhoek), as the rules of `referrals::access`, `slots::api`,
//! `offers`, `planning::api`, `mail::api` and `auth::api` intend.
//!
//! The regions are not neighbours, so a referral of one is never planned at
//! the other's table. "Own" and "other" follow from the object: region A is
//! chair A's own (and secretary A's) and chair B's other; the referrer belongs to the
//! organisation of region A's referrals; for users and tokens, A is the
//! caller themself and B another user.
//!
//! A cell expected to succeed gets a fresh object (a success changes it;
//! a read does not, so reads share one);
//! refused cells share one per region (a refusal changes nothing). Every
//! mismatch is collected, so one run lists every hole at once.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use jbt::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::planning::referral_body;
use crate::story;

/// Who asks. Order of the columns of [`TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Coordinator,
    ChairA,
    ChairB,
    /// The secretary of region A's table.
    SecretaryA,
    Referrer,
    Municipal,
    Admin,
    Anonymous,
}

const WHO: [Who; 8] = [
    Who::Coordinator,
    Who::ChairA,
    Who::ChairB,
    Who::SecretaryA,
    Who::Referrer,
    Who::Municipal,
    Who::Admin,
    Who::Anonymous,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    A,
    B,
}

/// What a request is about, made per region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Object {
    /// No object: the same request for A and B.
    Nothing,
    /// `?region=` of the side.
    RegionQuery,
    /// A registration body for a municipality of the side.
    NewReferral,
    /// A registered referral of the side (`{id}`).
    Referral,
    /// A referral booked in a slot that has started.
    Booked,
    /// A referral whose conversation was held.
    Held,
    /// A booking body: a referral of the side and a free slot at its table.
    Booking,
    /// A booking body: a referral of the side (cross-region allowed) and a
    /// free slot at the neighbouring Centraal Gelderland table.
    BookingNeighbourSlot,
    /// An extra-session body for the side's region.
    NewSession,
    /// A cancel body for a date on which the side's region has a session.
    SessionToCancel,
    /// An open offer to the side's table (`{id}`).
    Offer,
    /// A user (`{id}`): A the caller, B another user.
    User,
    /// A user (`{id}`) with a harmless change (`active: true`): A the
    /// caller, B another user.
    UserChange,
    /// A live API token (`{id}`, `{token_id}`): A the caller's, B another user's.
    Token,
    /// A new-user body.
    NewUser,
}

struct Row {
    method: &'static str,
    path: &'static str,
    object: Object,
    /// Expected status per [`WHO`] for an object in region A, and in B.
    a: [u16; 8],
    b: [u16; 8],
}

//                    coord chairA chairB secretaryA referrer municipal admin anonymous
const TABLE: &[Row] = &[
    Row {
        method: "GET",
        path: "/healthz",
        object: Object::Nothing,
        a: [200, 200, 200, 200, 200, 200, 200, 200],
        b: [200, 200, 200, 200, 200, 200, 200, 200],
    },
    Row {
        method: "GET",
        path: "/api/openapi.json",
        object: Object::Nothing,
        a: [200, 200, 200, 200, 200, 200, 200, 200],
        b: [200, 200, 200, 200, 200, 200, 200, 200],
    },
    Row {
        method: "GET",
        path: "/api/v1/me",
        object: Object::Nothing,
        a: [200, 200, 200, 200, 200, 200, 200, 401],
        b: [200, 200, 200, 200, 200, 200, 200, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/users",
        object: Object::Nothing,
        a: [403, 403, 403, 403, 403, 403, 200, 401],
        b: [403, 403, 403, 403, 403, 403, 200, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/users",
        object: Object::NewUser,
        a: [403, 403, 403, 403, 403, 403, 201, 401],
        b: [403, 403, 403, 403, 403, 403, 201, 401],
    },
    Row {
        method: "PATCH",
        path: "/api/v1/users/{id}",
        object: Object::UserChange,
        a: [403, 403, 403, 403, 403, 403, 200, 401],
        b: [403, 403, 403, 403, 403, 403, 200, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/users/{id}/tokens",
        object: Object::User,
        // Listed to their owner only.
        a: [200, 200, 200, 200, 200, 200, 200, 401],
        b: [403, 403, 403, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/users/{id}/tokens",
        object: Object::User,
        // Tokens are issued to their owner only: not even an admin obtains
        // one for another user.
        a: [201, 201, 201, 201, 201, 201, 201, 401],
        b: [403, 403, 403, 403, 403, 403, 403, 401],
    },
    Row {
        method: "DELETE",
        path: "/api/v1/users/{id}/tokens/{token_id}",
        object: Object::Token,
        a: [204, 204, 204, 204, 204, 204, 204, 401],
        b: [403, 403, 403, 403, 403, 403, 204, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/audit",
        object: Object::Nothing,
        a: [403, 403, 403, 403, 403, 403, 200, 401],
        b: [403, 403, 403, 403, 403, 403, 200, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/referrals",
        object: Object::NewReferral,
        a: [201, 403, 403, 201, 201, 403, 403, 401],
        b: [201, 403, 403, 422, 201, 403, 403, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/referrals?region={region}",
        object: Object::RegionQuery,
        a: [200, 200, 200, 200, 200, 403, 403, 401],
        b: [200, 200, 200, 200, 200, 403, 403, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/referrals/{id}",
        object: Object::Referral,
        a: [200, 200, 404, 200, 200, 403, 403, 401],
        b: [200, 404, 200, 404, 404, 403, 403, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/referrals/{id}/info-requests",
        object: Object::Referral,
        a: [200, 200, 404, 200, 200, 403, 403, 401],
        b: [200, 404, 200, 404, 404, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/referrals/{id}/info-requests",
        object: Object::Referral,
        // The table asks; the referrer answers, and never asks.
        a: [201, 201, 404, 201, 403, 403, 403, 401],
        b: [201, 404, 201, 404, 403, 403, 403, 401],
    },
    Row {
        method: "PATCH",
        path: "/api/v1/referrals/{id}",
        object: Object::Referral,
        a: [200, 403, 403, 403, 200, 403, 403, 401],
        b: [200, 403, 403, 403, 404, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/referrals/{id}/withdraw",
        object: Object::Referral,
        a: [200, 403, 403, 403, 200, 403, 403, 401],
        b: [200, 403, 403, 403, 404, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/referrals/{id}/cancel",
        object: Object::Referral,
        a: [200, 200, 404, 403, 403, 403, 403, 401],
        b: [200, 404, 200, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/referrals/{id}/held",
        object: Object::Booked,
        a: [200, 200, 404, 403, 403, 403, 403, 401],
        b: [200, 404, 200, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/referrals/{id}/not-held",
        object: Object::Booked,
        a: [200, 200, 404, 403, 403, 403, 403, 401],
        b: [200, 404, 200, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/referrals/{id}/outcome",
        object: Object::Held,
        a: [201, 201, 404, 403, 403, 403, 403, 401],
        b: [201, 404, 201, 403, 403, 403, 403, 401],
    },
    // The report: read where it may be (a coordinator sees only that it
    // exists), written by the chair or secretary of the table where the
    // conversation was held.
    Row {
        method: "GET",
        path: "/api/v1/referrals/{id}/report",
        object: Object::Held,
        a: [200, 200, 404, 200, 200, 403, 403, 401],
        b: [200, 404, 200, 404, 404, 403, 403, 401],
    },
    Row {
        method: "PUT",
        path: "/api/v1/referrals/{id}/report",
        object: Object::Held,
        a: [403, 200, 404, 200, 403, 403, 403, 401],
        b: [403, 404, 200, 404, 404, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/bookings",
        object: Object::Booking,
        a: [201, 201, 404, 403, 403, 403, 403, 401],
        b: [201, 404, 201, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/bookings",
        object: Object::BookingNeighbourSlot,
        a: [201, 403, 404, 403, 403, 403, 403, 401],
        b: [201, 404, 403, 403, 403, 403, 403, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/slots?region={region}",
        object: Object::RegionQuery,
        a: [200, 200, 200, 200, 403, 403, 403, 401],
        b: [200, 200, 200, 200, 403, 403, 403, 401],
    },
    // The half-yearly evaluation: the coordinator, and the table's chairs.
    Row {
        method: "GET",
        path: "/api/v1/evaluation?region={region}",
        object: Object::RegionQuery,
        a: [200, 200, 403, 403, 403, 403, 403, 401],
        b: [200, 403, 200, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/slots/sessions",
        object: Object::NewSession,
        a: [201, 201, 403, 201, 403, 403, 403, 401],
        b: [201, 403, 201, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/slots/sessions/cancel",
        object: Object::SessionToCancel,
        a: [200, 200, 403, 200, 403, 403, 403, 401],
        b: [200, 403, 200, 403, 403, 403, 403, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/plan",
        object: Object::Nothing,
        a: [200, 200, 200, 200, 403, 403, 403, 401],
        b: [200, 200, 200, 200, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/plan/run",
        object: Object::Nothing,
        a: [200, 403, 403, 403, 403, 403, 403, 401],
        b: [200, 403, 403, 403, 403, 403, 403, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/offers",
        object: Object::Nothing,
        a: [200, 200, 200, 403, 403, 403, 403, 401],
        b: [200, 200, 200, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/offers/{id}/accept",
        object: Object::Offer,
        a: [403, 200, 404, 403, 403, 403, 403, 401],
        b: [403, 404, 200, 403, 403, 403, 403, 401],
    },
    Row {
        method: "POST",
        path: "/api/v1/offers/{id}/decline",
        object: Object::Offer,
        a: [403, 200, 404, 403, 403, 403, 403, 401],
        b: [403, 404, 200, 403, 403, 403, 403, 401],
    },
    Row {
        method: "GET",
        path: "/api/v1/mail",
        object: Object::Nothing,
        a: [200, 403, 403, 403, 403, 403, 403, 401],
        b: [200, 403, 403, 403, 403, 403, 403, 401],
    },
];

const REGION_A: &str = "food-valley";
const REGION_B: &str = "achterhoek";
/// A neighbour of both A and B.
const NEIGHBOUR: &str = "centraal-gelderland";
const ORG_A: &str = "Sociaal Team Ede";
const ORG_B: &str = "Sociaal Team Winterswijk";

fn region(side: Side) -> &'static str {
    match side {
        Side::A => REGION_A,
        Side::B => REGION_B,
    }
}

/// The home region of a referral offered to the side's table: a neighbour
/// of that table only.
fn offer_home(side: Side) -> (&'static str, &'static str) {
    match side {
        Side::A => ("noord-veluwe", "Ermelo"),
        Side::B => ("midden-ijssel-oost-veluwe", "Apeldoorn"),
    }
}

/// A request ready to send, apart from who sends it.
#[derive(Debug, Clone, Default)]
struct Target {
    vars: Vec<(&'static str, String)>,
    body: Option<Value>,
}

struct Ctx<'a> {
    app: &'a TestApp,
    users: HashMap<Who, TestUser>,
    /// A referrer of region B's organisation: "another user".
    other: TestUser,
    n: u32,
    used_slots: HashSet<String>,
    /// Objects made before the clock moved (booked or held referrals).
    ready: HashMap<(Object, Side), Vec<i64>>,
    shared: HashMap<(Object, Side), Target>,
}

impl Ctx<'_> {
    fn next(&mut self) -> u32 {
        self.n += 1;
        self.n
    }

    fn coordinator(&self) -> &TestUser {
        &self.users[&Who::Coordinator]
    }

    fn today(&self) -> NaiveDate {
        self.app.clock.now_local_date()
    }

    async fn expect(&self, response: reqwest::Response, status: StatusCode, what: &str) -> Value {
        let got = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(got, status, "fixture {what}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Registers a referral of `municipality` for `org` as the coordinator.
    async fn register_in(&mut self, municipality: &str, org: &str, cross_region: bool) -> i64 {
        let mut body = referral_of(&format!("ACM-{}", self.next()), municipality, org);
        body["cross_region"] = json!(cross_region);
        let response = self
            .app
            .post(self.coordinator(), "/api/v1/referrals", &body)
            .await;
        self.expect(response, StatusCode::CREATED, "register").await["id"]
            .as_i64()
            .expect("id")
    }

    async fn register(&mut self, side: Side, cross_region: bool) -> i64 {
        match side {
            Side::A => self.register_in("Ede", ORG_A, cross_region).await,
            Side::B => self.register_in("Winterswijk", ORG_B, cross_region).await,
        }
    }

    /// A slot of `region` between `from` and `weeks` later that nobody has
    /// booked and no other cell uses: free if possible, else tentative.
    async fn slot(&mut self, region: &str, from: NaiveDate, weeks: u32) -> String {
        let path = format!("/api/v1/slots?region={region}&from={from}&weeks={weeks}");
        let response = self.app.get(self.coordinator(), &path).await;
        let slots = self.expect(response, StatusCode::OK, "slots").await;
        let slots = slots.as_array().cloned().unwrap_or_default();
        let now = self.app.clock.now_rfc3339();
        for state in ["free", "tentative"] {
            for s in &slots {
                let id = s["id"].as_str().unwrap_or_default().to_string();
                let future = s["start"].as_str().is_some_and(|t| t > now.as_str());
                if s["state"] == state && future && !self.used_slots.contains(&id) {
                    self.used_slots.insert(id.clone());
                    return id;
                }
            }
        }
        panic!("no slot left in {region} from {from} for {weeks} weeks");
    }

    async fn book(&mut self, id: i64, slot: &str) {
        let body = json!({ "referral_id": id, "slot_id": slot });
        let response = self
            .app
            .post(self.coordinator(), "/api/v1/bookings", &body)
            .await;
        self.expect(response, StatusCode::CREATED, "booking").await;
    }

    /// Lets the debounced plan runs of the fixtures finish.
    async fn settle(&self) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        self.app.replan().await;
    }

    /// Books referrals in slots of the first two weeks for the cells that
    /// need a conversation that has started; the clock then moves past them.
    async fn prepare_started(&mut self) {
        let start = self.today();
        for object in [Object::Booked, Object::Held] {
            for side in [Side::A, Side::B] {
                let (row_a, row_b): (usize, usize) = TABLE
                    .iter()
                    // A read changes nothing: it may share the object.
                    .filter(|r| r.object == object && r.method != "GET")
                    .map(|r| (success_count(&r.a), success_count(&r.b)))
                    .fold((0, 0), |acc, c| (acc.0 + c.0, acc.1 + c.1));
                let fresh = if side == Side::A { row_a } else { row_b };
                let mut ids = Vec::new();
                // One more than the successes: the shared one for refusals.
                for _ in 0..=fresh {
                    let id = self.register(side, false).await;
                    let slot = self.slot(region(side), start, 2).await;
                    self.book(id, &slot).await;
                    ids.push(id);
                }
                self.ready.insert((object, side), ids);
            }
        }
        self.settle().await;
        self.app.clock.advance(Duration::days(15));
        let held: Vec<i64> = [Side::A, Side::B]
            .iter()
            .flat_map(|&s| self.ready[&(Object::Held, s)].clone())
            .collect();
        for id in held {
            let response = self
                .app
                .post(
                    self.coordinator(),
                    &format!("/api/v1/referrals/{id}/held"),
                    &json!({}),
                )
                .await;
            self.expect(response, StatusCode::OK, "held").await;
        }
    }

    /// An open offer to the side's table of a referral from a neighbouring
    /// region, holding a free slot there (as the planner leaves it).
    async fn offer(&mut self, side: Side) -> i64 {
        let (home, municipality) = offer_home(side);
        let id = self.register_in(municipality, ORG_A, true).await;
        self.settle().await;
        let from = self.today() + Duration::days(28);
        let slot = self.slot(region(side), from, 2).await;
        let now = self.app.clock.now();
        let state = &self.app.state;
        let mut tx = state.store.write().await.expect("write");
        sqlx::query("UPDATE referrals SET status = 'planned', planned_slot_id = $1 WHERE id = $2")
            .bind(&slot)
            .bind(id)
            .execute(&mut *tx)
            .await
            .expect("plan the referral in the offered slot");
        let new = jbt::offers::store::NewOffer {
            referral_id: id,
            slot_id: &slot,
            from_region: home,
            to_region: region(side),
            expires_at: now + Duration::days(30),
        };
        let offer = jbt::offers::store::insert_open(&mut tx, &new, now)
            .await
            .expect("insert offer")
            .expect("a new offer");
        tx.commit().await.expect("commit");
        offer
    }

    /// A new session on a Saturday no other cell used, so cancelling that
    /// date touches only it.
    async fn saturday_session(&mut self, side: Side) -> String {
        let mut date = self.today() + Duration::days(21);
        while date.weekday() != Weekday::Sat {
            date += Duration::days(1);
        }
        date += Duration::weeks(i64::from(self.next() % 5));
        loop {
            let body = json!({ "region": region(side), "date": date.to_string(),
                               "start": "10:00", "slots": 1, "minutes": 90 });
            let response = self
                .app
                .post(self.coordinator(), "/api/v1/slots/sessions", &body)
                .await;
            if response.status() == StatusCode::CREATED {
                return date.to_string();
            }
            date += Duration::weeks(1);
        }
    }

    /// The request's object for `who` on `side`; fresh when `fresh`.
    async fn target(&mut self, object: Object, side: Side, who: Who, fresh: bool) -> Target {
        // Users and tokens depend on who asks; the rest is shared by
        // refusals of every role.
        let per_who = matches!(object, Object::User | Object::Token);
        if !fresh && !per_who {
            if let Some(t) = self.shared.get(&(object, side)) {
                return t.clone();
            }
        }
        let target = self.make(object, side, who, fresh).await;
        if !fresh && !per_who {
            self.shared.insert((object, side), target.clone());
        }
        target
    }

    async fn make(&mut self, object: Object, side: Side, who: Who, fresh: bool) -> Target {
        let var = |k: &'static str, v: String| Target {
            vars: vec![(k, v)],
            body: None,
        };
        let body = |b: Value| Target {
            vars: Vec::new(),
            body: Some(b),
        };
        match object {
            Object::Nothing => Target::default(),
            Object::RegionQuery => var("region", region(side).to_string()),
            Object::NewReferral => {
                let (municipality, org) = match side {
                    Side::A => ("Ede", ORG_A),
                    Side::B => ("Winterswijk", ORG_B),
                };
                let mut new = referral_of(&format!("ACM-NEW-{}", self.next()), municipality, org);
                // A referrer names their own address (or none).
                if who == Who::Referrer {
                    new.as_object_mut().map(|b| b.remove("referrer_email"));
                }
                body(new)
            }
            Object::Referral => {
                let id = self.register(side, false).await;
                var("id", id.to_string())
            }
            Object::Booked | Object::Held => {
                let ids = self.ready.get_mut(&(object, side)).expect("prepared");
                // The first is kept for the refusals.
                let id = if fresh && ids.len() > 1 {
                    ids.pop()
                } else {
                    ids.first().copied()
                };
                let id = id.expect("enough prepared referrals");
                var("id", id.to_string())
            }
            Object::Booking | Object::BookingNeighbourSlot => {
                let neighbour = object == Object::BookingNeighbourSlot;
                let id = self.register(side, neighbour).await;
                let from = self.today() + Duration::days(7);
                let table = if neighbour { NEIGHBOUR } else { region(side) };
                let slot = self.slot(table, from, 4).await;
                body(json!({ "referral_id": id, "slot_id": slot }))
            }
            Object::NewSession => {
                // A date of its own: no two cells' sessions collide.
                let date = self.today() + Duration::days(20 + i64::from(self.next()));
                body(json!({ "region": region(side), "date": date.to_string(),
                             "start": "18:00", "slots": 1, "minutes": 60 }))
            }
            Object::SessionToCancel => {
                let date = self.saturday_session(side).await;
                body(json!({ "region": region(side), "date": date, "reason": "voorzitter ziek" }))
            }
            Object::Offer => {
                let id = self.offer(side).await;
                var("id", id.to_string())
            }
            Object::User => {
                let id = self.owner(side, who);
                // The caller's own password: minting a token needs it.
                let password = self
                    .users
                    .get(&who)
                    .map_or_else(String::new, |u| u.password.clone());
                Target {
                    vars: vec![("id", id.to_string())],
                    body: Some(json!({ "label": "matrix", "password": password })),
                }
            }
            Object::UserChange => Target {
                vars: vec![("id", self.owner(side, who).to_string())],
                body: Some(json!({ "active": true })),
            },
            Object::Token => {
                let owner = self.owner(side, who);
                let issued = jbt::auth::users::create_token(
                    &self.app.state.store,
                    None,
                    owner,
                    "matrix",
                    self.app.clock.now(),
                    self.app.clock.now() + chrono::Duration::days(90),
                )
                .await
                .expect("token");
                Target {
                    vars: vec![
                        ("id", owner.to_string()),
                        ("token_id", issued.id.to_string()),
                    ],
                    body: None,
                }
            }
            Object::NewUser => body(json!({
                "email": format!("matrix-{}@example.org", self.next()),
                "role": "chair",
                "region": region(side),
            })),
        }
    }

    /// A: the caller themself (the coordinator's id for anonymous); B: another user.
    fn owner(&self, side: Side, who: Who) -> i64 {
        match (side, self.users.get(&who)) {
            (Side::A, Some(user)) => user.id,
            (Side::A, None) => self.coordinator().id,
            (Side::B, _) => self.other.id,
        }
    }

    async fn send(&self, row: &Row, who: Who, target: &Target) -> (StatusCode, String) {
        let mut path = row.path.to_string();
        for (k, v) in &target.vars {
            path = path.replace(&format!("{{{k}}}"), v);
        }
        let method = Method::from_bytes(row.method.as_bytes()).expect("method");
        let mut request = self.app.client.request(method, self.app.url(&path));
        if let Some(user) = self.users.get(&who) {
            request = request.bearer_auth(&user.token);
        }
        if let Some(body) = target.body.clone().or_else(|| fixed_body(row)) {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }
}

/// A complete registration of `municipality` by the referrer organisation
/// `org` (the owner of a side's referrals).
fn referral_of(case_ref: &str, municipality: &str, org: &str) -> Value {
    let mut body = referral_body(case_ref, municipality);
    body["referrer_org"] = json!(org);
    body
}

/// The body of a request about an existing object: valid, so that only
/// access decides the answer.
fn fixed_body(row: &Row) -> Option<Value> {
    let path = row.path;
    if row.method == "PATCH" {
        Some(json!({ "unavailable": [] }))
    } else if path.ends_with("/withdraw") || path.ends_with("/cancel") || path.ends_with("/decline")
    {
        Some(json!({ "reason": "matrix" }))
    } else if path.ends_with("/info-requests") {
        Some(json!({ "text": "matrix" }))
    } else if path.ends_with("/not-held") {
        Some(json!({ "reason": "family_absent" }))
    } else if path.ends_with("/report") && row.method == "PUT" {
        Some(json!({ "text": "matrix" }))
    } else if path.ends_with("/outcome") {
        Some(json!({ "outcome": "voluntary_binding", "route": "r", "help": "h" }))
    } else {
        None
    }
}

fn success_count(expected: &[u16; 8]) -> usize {
    expected.iter().filter(|s| (200..300).contains(*s)).count()
}

trait ClockExt {
    fn now_local_date(&self) -> NaiveDate;
    fn now_rfc3339(&self) -> String;
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl ClockExt for jbt::clock::FakeClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        jbt::clock::Clock::now(self)
    }
    fn now_local_date(&self) -> NaiveDate {
        self.now()
            .with_timezone(&chrono_tz::Europe::Amsterdam)
            .date_naive()
    }
    fn now_rfc3339(&self) -> String {
        self.now()
            .with_timezone(&chrono_tz::Europe::Amsterdam)
            .to_rfc3339()
    }
}

story!(
    every_endpoint_refuses_and_allows_exactly_as_the_rules_say,
    |app| {
        let mut users = HashMap::new();
        users.insert(Who::Coordinator, app.user(Role::Coordinator, None).await);
        users.insert(Who::ChairA, app.user(Role::Chair, Some(REGION_A)).await);
        users.insert(Who::ChairB, app.user(Role::Chair, Some(REGION_B)).await);
        users.insert(
            Who::SecretaryA,
            app.user(Role::Secretary, Some(REGION_A)).await,
        );
        users.insert(Who::Referrer, app.user(Role::Referrer, Some(ORG_A)).await);
        users.insert(
            Who::Municipal,
            app.user(Role::MunicipalContact, Some("GM0228")).await,
        );
        users.insert(Who::Admin, app.user(Role::Admin, None).await);
        let other = app.user(Role::Referrer, Some(ORG_B)).await;
        let mut ctx = Ctx {
            app: &app,
            users,
            other,
            n: 0,
            used_slots: HashSet::new(),
            ready: HashMap::new(),
            shared: HashMap::new(),
        };
        ctx.prepare_started().await;

        let mut mismatches = Vec::new();
        let mut cells = 0;
        for row in TABLE {
            for (side, expected) in [(Side::A, &row.a), (Side::B, &row.b)] {
                for (who, &want) in WHO.iter().zip(expected.iter()) {
                    let fresh = (200..300).contains(&want) && row.method != "GET";
                    let target = ctx.target(row.object, side, *who, fresh).await;
                    let (got, body) = ctx.send(row, *who, &target).await;
                    cells += 1;
                    if got.as_u16() != want {
                        mismatches.push(format!(
                        "{} {} ({:?}, region {side:?}) as {who:?}: expected {want}, got {got}: {body}",
                        row.method, row.path, row.object
                    ));
                    }
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "{} of {cells} cells differ from the table:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
        assert_eq!(cells, TABLE.len() * 2 * WHO.len());
    }
);

async fn text(app: &TestApp, user: &TestUser, path: &str) -> String {
    let response = app.get(user, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("body")
}

// The lists behind a 200: each role gets only what its scope holds. A
// chair of B sees none of region A's cases in the referrals, the plan or
// A's slots; the referrer only its organisation's referrals.
story!(lists_show_each_role_only_its_scope, |app| {
    let coordinator = app.user(Role::Coordinator, None).await;
    let chair_b = app.user(Role::Chair, Some(REGION_B)).await;
    let referrer = app.user(Role::Referrer, Some(ORG_A)).await;
    let mut ids = HashMap::new();
    for (side, municipality, org) in [(Side::A, "Ede", ORG_A), (Side::B, "Winterswijk", ORG_B)] {
        let body = json!({
            "case_ref": format!("SCOPE-{side:?}1"),
            "municipality": municipality,
            "kind": "vtb",
            "referrer_kind": "local_team",
            "referrer_org": org,
            "referrer_email": "professional@sociaalteam.example.org",
            "safety_plan": true,
            "parents_informed": true,
            "child_12_plus": false,
            "cross_region": false,
        });
        let response = app.post(&coordinator, "/api/v1/referrals", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.insert(side, json(response).await["id"].as_i64().expect("id"));
    }
    app.replan().await;
    for path in [
        "/api/v1/referrals",
        "/api/v1/plan",
        "/api/v1/slots?region=food-valley&weeks=4",
    ] {
        let seen = text(&app, &chair_b, path).await;
        assert!(
            !seen.contains("SCOPE-A1"),
            "chair B sees region A's case in {path}: {seen}"
        );
    }
    assert!(text(&app, &chair_b, "/api/v1/referrals")
        .await
        .contains("SCOPE-B1"));
    let own = text(&app, &referrer, "/api/v1/referrals").await;
    assert!(
        own.contains("SCOPE-A1") && !own.contains("SCOPE-B1"),
        "{own}"
    );
    let all = text(&app, &coordinator, "/api/v1/plan").await;
    assert!(
        all.contains("SCOPE-A1") && all.contains("SCOPE-B1"),
        "{all}"
    );
});
