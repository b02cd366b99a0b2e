//! The audit log for administrators, readable: Dutch action names, the
//! user's e-mail address and the case reference instead of internal ids,
//! filters by case reference, user, action and period. Only references: no
//! case content is stored in the log, so none can show here.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{format, render, Choice, Chrome, PageError, Viewer};
use crate::auth::admin::{self, AuditQuery};
use crate::auth::audit::AuditRow;
use crate::error::{Error, FieldError};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/admin_audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditLine>,
    /// The link to the next (older) page, filters kept.
    next: Option<String>,
    /// The text filters, as typed, each with its problem if any.
    fields: Vec<FilterField>,
    actions: Vec<Choice>,
    /// Problems with the filters: (form field, Dutch message).
    problems: Vec<(String, String)>,
}

impl AuditPage {
    /// The message for `field`, if the filter had a problem there.
    fn problem(&self, field: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

struct FilterField {
    /// The form field (`zaak`, `gebruiker`, `van`, `tot`).
    name: &'static str,
    label: &'static str,
    /// The input type: `text`, `email`, `date`.
    kind: &'static str,
    value: String,
    problem: Option<String>,
}

struct AuditLine {
    at: String,
    user: String,
    action: String,
    case_ref: String,
    result: String,
    detail: String,
}

/// The audit page's filters, as typed (kept in the form): `zaak` (a case
/// reference), `gebruiker` (an e-mail address), `actie` (an action name),
/// `van` and `tot` (local dates, `YYYY-MM-DD`, both included), and
/// `before_id` for the next page.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditForm {
    #[serde(default)]
    zaak: String,
    #[serde(default)]
    gebruiker: String,
    #[serde(default)]
    actie: String,
    #[serde(default)]
    van: String,
    #[serde(default)]
    tot: String,
    before_id: Option<String>,
}

/// `GET /admin/audit`: the audit log, newest first, 100 rows a page,
/// filtered (admins; a refusal is audited). A filter that cannot be read
/// gives the page again with the input kept and the problem at its field
/// (422); a case reference or user that does not exist gives no rows.
///
/// # Errors
/// 403 page for other roles; database errors.
pub async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(form): Query<AuditForm>,
) -> Result<Response, PageError> {
    admin::admin_only(&state, &viewer.user, "audit.read").await?;
    let users = crate::auth::users::list_users(&state.store).await?;
    let emails: HashMap<i64, String> = users.iter().map(|u| (u.id, u.email.clone())).collect();
    let mut problems: Vec<FieldError> = Vec::new();
    let mut none_match = false;
    let referral_id = match given(&form.zaak) {
        None => None,
        Some(text) => match crate::referrals::audit::id_by_case_ref(&state, text).await {
            Ok(Some(id)) => Some(id.to_string()),
            Ok(None) => {
                none_match = true;
                None
            }
            Err(Error::Invalid(found)) => {
                problems.extend(found);
                None
            }
            Err(other) => return Err(other.into()),
        },
    };
    let user_id = given(&form.gebruiker).and_then(|text| {
        let id = users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(text))
            .map(|u| u.id.to_string());
        none_match |= id.is_none();
        id
    });
    let query = AuditQuery {
        referral_id,
        user_id,
        before_id: form.before_id.clone(),
        limit: None,
        action: given(&form.actie).map(str::to_string),
        from: given(&form.van).map(str::to_string),
        to: given(&form.tot).map(str::to_string),
    };
    let filter = match query.parse(state.regions.timezone) {
        Ok(filter) if problems.is_empty() => Some(filter),
        Ok(_) => None,
        Err(found) => {
            problems.extend(found);
            None
        }
    };
    let entries = match filter {
        Some(filter) if !none_match => admin::read_log(&state, &viewer.user, filter).await?,
        _ => Vec::new(),
    };
    let limit = filter.map_or(0, |f| f.limit);
    let full = !entries.is_empty() && entries.len() == usize::try_from(limit).unwrap_or(usize::MAX);
    let next = entries
        .last()
        .filter(|_| full)
        .map(|row| next_link(&form, row.id));
    let ids: Vec<i64> = entries.iter().filter_map(|e| e.referral_id).collect();
    let case_refs = crate::referrals::audit::case_refs(&state, &ids).await?;
    let tz = state.regions.timezone;
    let page = AuditPage {
        chrome: viewer.chrome_counted(&state, "/admin/audit").await,
        entries: entries
            .into_iter()
            .map(|e| line(e, &emails, &case_refs, tz))
            .collect(),
        next,
        actions: action_choices(&form.actie),
        problems: problems
            .into_iter()
            .map(|p| {
                let field = format!("a-{}", field_name(&p.field));
                (field, p.dutch.unwrap_or(p.message))
            })
            .collect(),
        fields: Vec::new(),
    };
    let page = AuditPage {
        fields: filter_fields(&form, &page),
        ..page
    };
    let status = if page.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page)?).into_response())
}

fn given(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// The form's field for a filter's problem.
fn field_name(field: &str) -> &str {
    match field {
        "case_ref" | "referral_id" => "zaak",
        "user_id" => "gebruiker",
        "action" => "actie",
        "from" => "van",
        "to" => "tot",
        other => other,
    }
}

fn line(
    e: AuditRow,
    emails: &HashMap<i64, String>,
    case_refs: &HashMap<i64, String>,
    tz: chrono_tz::Tz,
) -> AuditLine {
    let role = e
        .role
        .as_deref()
        .and_then(crate::auth::Role::parse)
        .map(format::role);
    let who = e.user_id.map(|id| {
        emails
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("gebruiker {id}"))
    });
    AuditLine {
        at: format::moment(e.at, tz),
        user: match (who, role) {
            (Some(who), Some(role)) => format!("{who} ({role})"),
            (Some(who), None) => who,
            (None, _) => "systeem".into(),
        },
        action: format::audit_action(&e.action).to_string(),
        case_ref: e
            .referral_id
            .map(|id| {
                case_refs
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("aanmelding {id}"))
            })
            .or_else(|| {
                (!e.referral_ids.is_empty())
                    .then(|| format!("{} aanmeldingen", e.referral_ids.len()))
            })
            .unwrap_or_default(),
        result: if e.result == "ok" {
            "gelukt".into()
        } else {
            format!("geweigerd ({})", e.result)
        },
        detail: e.detail.unwrap_or_default(),
    }
}

fn filter_fields(form: &AuditForm, page: &AuditPage) -> Vec<FilterField> {
    [
        ("zaak", "Kenmerk van de aanmelding", "text", &form.zaak),
        (
            "gebruiker",
            "Gebruiker (e-mailadres)",
            "email",
            &form.gebruiker,
        ),
        ("van", "Van", "date", &form.van),
        ("tot", "Tot en met", "date", &form.tot),
    ]
    .into_iter()
    .map(|(name, label, kind, value)| FilterField {
        name,
        label,
        kind,
        value: value.clone(),
        problem: page.problem(&format!("a-{name}")).map(str::to_string),
    })
    .collect()
}

fn action_choices(chosen: &str) -> Vec<Choice> {
    let chosen = chosen.trim();
    std::iter::once(Choice {
        value: String::new(),
        label: "alle acties".into(),
        selected: chosen.is_empty(),
    })
    .chain(format::AUDIT_ACTIONS.iter().map(|(name, words)| Choice {
        value: (*name).to_string(),
        label: (*words).to_string(),
        selected: *name == chosen,
    }))
    .collect()
}

/// The next page's address: the same filters, older rows.
fn next_link(form: &AuditForm, before_id: i64) -> String {
    let pairs = [
        ("zaak", form.zaak.as_str()),
        ("gebruiker", form.gebruiker.as_str()),
        ("actie", form.actie.as_str()),
        ("van", form.van.as_str()),
        ("tot", form.tot.as_str()),
    ];
    let mut link = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()) {
        link.append_pair(key, value.trim());
    }
    link.append_pair("before_id", &before_id.to_string());
    format!("/admin/audit?{}", link.finish())
}
