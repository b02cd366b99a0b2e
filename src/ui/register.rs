//! `/aanmelden`: a professional registers a family for a conversation at
//! the table (*verzoek tot bespreking*), in Dutch, without JavaScript.
//!
//! Referrers register for their own organisation with their own address;
//! coordinators and a table's secretaries register on a professional's
//! behalf (requests that arrive by secure mail), typing the organisation
//! and work address; a secretary only for families of the own region. The form goes
//! through the same service as `POST /api/v1/referrals`; a refusal shows the
//! form again with the input kept, each problem next to its field and in a
//! summary at the top. The case reference is issued by jbt unless the
//! professional gives their own.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::form::PageForm as Form;
use super::{render, Chrome, PageError, Viewer};
use crate::auth::Role;
use crate::error::{Error, FieldError};
use crate::referrals::input::CreateReferral;
use crate::referrals::service;
use crate::state::AppState;

/// Date fields for days the family cannot come.
const UNAVAILABLE_FIELDS: usize = 4;

/// One option of a select list.
struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/register.html")]
struct RegisterPage {
    chrome: Chrome,
    csrf: String,
    own_address: bool,
    municipalities: Vec<Choice>,
    form: RegisterForm,
    /// (field id, Dutch message) for the summary and next to the fields.
    problems: Vec<(String, String)>,
}

impl RegisterPage {
    /// The message for `field`, if the form had a problem there.
    fn problem(&self, field: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The form as sent (and as shown again after a refusal).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    municipality: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    referrer_kind: String,
    #[serde(default)]
    referrer_org: String,
    #[serde(default)]
    referrer_email: String,
    #[serde(default)]
    case_ref: String,
    #[serde(default)]
    safety_plan: Option<String>,
    #[serde(default)]
    parents_informed: Option<String>,
    #[serde(default)]
    child_12_plus: Option<String>,
    #[serde(default)]
    cross_region: Option<String>,
    #[serde(default)]
    earliest: String,
    #[serde(default)]
    unavailable_1: String,
    #[serde(default)]
    unavailable_2: String,
    #[serde(default)]
    unavailable_3: String,
    #[serde(default)]
    unavailable_4: String,
    #[serde(default)]
    remarks: String,
}

impl RegisterForm {
    fn unavailable(&self) -> [&str; UNAVAILABLE_FIELDS] {
        [
            &self.unavailable_1,
            &self.unavailable_2,
            &self.unavailable_3,
            &self.unavailable_4,
        ]
    }

    fn request(&self, viewer: &Viewer) -> CreateReferral {
        let given = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty());
        let own = viewer.user.is(Role::Referrer);
        CreateReferral {
            case_ref: given(&self.case_ref),
            municipality: given(&self.municipality),
            kind: given(&self.kind),
            referrer_kind: given(&self.referrer_kind),
            referrer_org: if own {
                viewer.user.organisation.clone()
            } else {
                given(&self.referrer_org)
            },
            referrer_email: if own {
                Some(viewer.user.email.clone())
            } else {
                given(&self.referrer_email)
            },
            safety_plan: Some(self.safety_plan.is_some()),
            parents_informed: Some(self.parents_informed.is_some()),
            child_12_plus: Some(self.child_12_plus.is_some()),
            unavailable: self.unavailable().iter().filter_map(|d| given(d)).collect(),
            earliest: given(&self.earliest),
            cross_region: Some(self.cross_region.is_some()),
            remarks: given(&self.remarks),
        }
    }
}

fn may_register(viewer: &Viewer) -> Result<(), PageError> {
    viewer.require(&[Role::Referrer, Role::Coordinator, Role::Secretary])
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    form: RegisterForm,
    problems: Vec<(String, String)>,
) -> RegisterPage {
    let mut municipalities: Vec<Choice> = state
        .regions
        .regions
        .iter()
        .flat_map(|r| {
            r.municipalities.iter().map(move |m| Choice {
                value: m.cbs.to_string(),
                label: format!("{} (tafel {})", m.name, r.name),
            })
        })
        .collect();
    municipalities.sort_by(|a, b| a.label.cmp(&b.label));
    RegisterPage {
        chrome: viewer.chrome_counted(state, "/aanmelden").await,
        csrf: viewer.csrf.clone(),
        own_address: viewer.user.is(Role::Referrer),
        municipalities,
        form,
        problems,
    }
}

/// `GET /aanmelden`: the empty form (a neighbouring table allowed by
/// default, as in the API).
pub async fn form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    may_register(&viewer)?;
    let form = RegisterForm {
        cross_region: Some("on".into()),
        kind: "vtb".into(),
        referrer_kind: "local_team".into(),
        ..RegisterForm::default()
    };
    render(&page(&state, &viewer, form, Vec::new()).await)
}

/// `POST /aanmelden`: the referral's page, or the form again with what to
/// fix.
pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf)?;
    may_register(&viewer)?;
    match service::register(&state, &viewer.user, &form.request(&viewer)).await {
        Ok(referral) => Ok(
            Redirect::to(&format!("/referrals/{}?gedaan=aangemeld", referral.id)).into_response(),
        ),
        Err(Error::Invalid(fields)) => {
            let problems = fields.into_iter().map(dutch).collect();
            let mut response = render(&page(&state, &viewer, form, problems).await)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(other) => Err(PageError::from(other)),
    }
}

/// A field problem as the page shows it: the form's field id (the first
/// date field for a problem with the dates) and a Dutch sentence.
fn dutch(problem: FieldError) -> (String, String) {
    let field = match problem.field.as_str() {
        f if f.starts_with("unavailable") => "unavailable_1".to_string(),
        f => f.to_string(),
    };
    let label = match field.as_str() {
        "municipality" => "Gemeente",
        "kind" => "Soort gesprek",
        "referrer_kind" => "Soort verwijzer",
        "referrer_org" => "Organisatie",
        "referrer_email" => "E-mailadres",
        "case_ref" => "Eigen kenmerk",
        "earliest" => "Niet eerder dan",
        "unavailable_1" => "Data waarop het gezin niet kan",
        "cross_region" => "Andere tafel",
        "remarks" => "Opmerkingen voor de voorzitter",
        _ => "Invoer",
    };
    let text = super::format::field_problem(problem, label, "vul dit in.");
    (field, text)
}
