//! Follow-up plans (rencana tindak lanjut): the actions a unit commits to for a period, each
//! tied to an item (usually one of its weakest), with an owner, a due date and a status. A
//! report shows the period's plans and whether the previous period's actions were done.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::db::DbConn;
use crate::db::queries;
use crate::db::schema::follow_ups;
use crate::domain::rules;
use crate::error::{AppError, broken_rules};
use crate::instrument::{Instrument, Lang};
use crate::period::Period;

/// The statuses a plan moves through.
pub const STATUSES: [&str; 4] = ["planned", "in_progress", "done", "cancelled"];

/// A status as a reader sees it.
pub fn status_label(status: &str, lang: Lang) -> &'static str {
    match (status, lang) {
        ("planned", Lang::Id) => "Direncanakan",
        ("planned", Lang::En) => "Planned",
        ("in_progress", Lang::Id) => "Berjalan",
        ("in_progress", Lang::En) => "In progress",
        ("done", Lang::Id) => "Selesai",
        ("done", Lang::En) => "Done",
        ("cancelled", Lang::Id) => "Dibatalkan",
        ("cancelled", Lang::En) => "Cancelled",
        (_, Lang::Id) => "Lainnya",
        (_, Lang::En) => "Other",
    }
}

/// A follow-up action.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = follow_ups)]
pub struct FollowUp {
    /// Id.
    pub id: String,
    /// Unit code.
    #[serde(rename = "unit")]
    pub unit_code: String,
    /// Period the plan answers.
    pub period: String,
    /// The item it improves.
    #[serde(rename = "item")]
    pub item_code: String,
    /// What will be done.
    pub action: String,
    /// Who is responsible.
    pub owner: String,
    /// Due date, YYYY-MM-DD.
    pub due: String,
    /// planned, in_progress, done or cancelled.
    pub status: String,
    /// A note on progress.
    pub note: Option<String>,
    /// Created (UTC).
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    #[schema(value_type = String)]
    pub updated_at: NaiveDateTime,
}

/// Body of `POST /units/{unit}/follow-ups`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewFollowUpRequest {
    /// Period, such as 2025-Q3.
    #[validate(custom(function = "rules::period"))]
    pub period: String,
    /// Item code, such as U3.
    pub item: String,
    /// What will be done (at most 1,000 characters).
    #[validate(
        custom(function = "rules::not_blank"),
        length(max = 1000, message = "must be at most 1000 characters")
    )]
    pub action: String,
    /// Who is responsible (at most 200 characters).
    #[validate(
        custom(function = "rules::not_blank"),
        length(max = 200, message = "must be at most 200 characters")
    )]
    pub owner: String,
    /// Due date, YYYY-MM-DD.
    #[validate(custom(function = "rules::date"))]
    pub due: String,
    /// planned (default), in_progress, done or cancelled.
    #[serde(default)]
    #[validate(custom(function = "known_status"))]
    pub status: Option<String>,
    /// A note (at most 2,000 characters).
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    pub note: Option<String>,
}

/// Body of `PATCH /follow-ups/{id}`: any of the fields, each with the rule it has in a new
/// plan.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateFollowUpRequest {
    /// What will be done.
    #[serde(default)]
    #[validate(
        custom(function = "rules::not_blank"),
        length(max = 1000, message = "must be at most 1000 characters")
    )]
    pub action: Option<String>,
    /// Who is responsible.
    #[serde(default)]
    #[validate(
        custom(function = "rules::not_blank"),
        length(max = 200, message = "must be at most 200 characters")
    )]
    pub owner: Option<String>,
    /// Due date, YYYY-MM-DD.
    #[serde(default)]
    #[validate(custom(function = "rules::date"))]
    pub due: Option<String>,
    /// planned, in_progress, done or cancelled.
    #[serde(default)]
    #[validate(custom(function = "known_status"))]
    pub status: Option<String>,
    /// A note.
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    pub note: Option<String>,
}

/// One of [`STATUSES`].
fn known_status(value: &str) -> Result<(), validator::ValidationError> {
    rules::one_of(value, &STATUSES)
}

/// Adds a plan for a unit.
pub fn create(
    conn: &mut DbConn,
    instrument: &Instrument,
    unit: &str,
    req: &NewFollowUpRequest,
    now: NaiveDateTime,
) -> Result<FollowUp, AppError> {
    let mut fields = broken_rules(req);
    // The item is a rule of the instrument, not of the body alone.
    if !instrument.items.iter().any(|i| i.code == req.item) {
        fields.insert(
            "item".into(),
            format!("`{}` is not an item of {}", req.item, instrument.key),
        );
    }
    if !fields.is_empty() {
        return Err(AppError::invalid(fields));
    }
    let period: Period = req
        .period
        .parse()
        .map_err(|e: crate::period::PeriodError| AppError::field("period", e.to_string()))?;
    if queries::find_unit(conn, unit)?.is_none() {
        return Err(AppError::not_found(format!("unknown unit `{unit}`")));
    }
    let row = FollowUp {
        id: uuid::Uuid::new_v4().to_string(),
        unit_code: unit.to_owned(),
        period: period.to_string(),
        item_code: req.item.clone(),
        action: req.action.trim().to_owned(),
        owner: req.owner.trim().to_owned(),
        due: req.due.clone(),
        status: req.status.clone().unwrap_or_else(|| "planned".into()),
        note: req.note.clone(),
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(follow_ups::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// A plan by id.
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<FollowUp>, AppError> {
    Ok(follow_ups::table
        .find(id)
        .select(FollowUp::as_select())
        .first(conn)
        .optional()?)
}

/// Changes a plan.
pub fn update(
    conn: &mut DbConn,
    id: &str,
    req: &UpdateFollowUpRequest,
    now: NaiveDateTime,
) -> Result<FollowUp, AppError> {
    req.validate()?;
    let mut row = find(conn, id)?.ok_or_else(|| AppError::not_found("unknown follow-up"))?;
    if let Some(a) = &req.action {
        row.action = a.trim().to_owned();
    }
    if let Some(o) = &req.owner {
        row.owner = o.trim().to_owned();
    }
    if let Some(d) = &req.due {
        row.due = d.clone();
    }
    if let Some(s) = &req.status {
        row.status = s.clone();
    }
    if req.note.is_some() {
        row.note = req.note.clone();
    }
    row.updated_at = now;
    diesel::update(follow_ups::table.find(id))
        .set((
            follow_ups::action.eq(&row.action),
            follow_ups::owner.eq(&row.owner),
            follow_ups::due.eq(&row.due),
            follow_ups::status.eq(&row.status),
            follow_ups::note.eq(&row.note),
            follow_ups::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(row)
}

/// A unit's plans, of one period or all, by period then item.
pub fn list(
    conn: &mut DbConn,
    unit: &str,
    period: Option<&str>,
) -> Result<Vec<FollowUp>, AppError> {
    let mut query = follow_ups::table
        .filter(follow_ups::unit_code.eq(unit))
        .into_boxed();
    if let Some(p) = period {
        query = query.filter(follow_ups::period.eq(p));
    }
    Ok(query
        .order((
            follow_ups::period,
            follow_ups::item_code,
            follow_ups::created_at,
        ))
        .select(FollowUp::as_select())
        .load(conn)?)
}

/// The previous period's plans and how many were done.
#[derive(Debug, Clone, Serialize)]
pub struct PreviousPlans {
    /// The previous period.
    pub period: String,
    /// Actions planned (cancelled ones excluded).
    pub total: u64,
    /// Actions done.
    pub done: u64,
    /// The actions.
    pub actions: Vec<FollowUp>,
}

/// A report's follow-up part.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpSummary {
    /// This period's plans.
    pub current: Vec<FollowUp>,
    /// The previous period's plans and whether they were done.
    pub previous: Option<PreviousPlans>,
}

/// The follow-up part of a unit's report for a period.
pub fn summary(
    conn: &mut DbConn,
    unit: &str,
    period: &Period,
) -> Result<FollowUpSummary, AppError> {
    let current = list(conn, unit, Some(&period.to_string()))?;
    let before = period.previous().to_string();
    let actions = list(conn, unit, Some(&before))?;
    let previous = (!actions.is_empty()).then(|| {
        let counted: Vec<&FollowUp> = actions.iter().filter(|a| a.status != "cancelled").collect();
        PreviousPlans {
            period: before,
            total: counted.len() as u64,
            done: counted.iter().filter(|a| a.status == "done").count() as u64,
            actions: actions.clone(),
        }
    });
    Ok(FollowUpSummary { current, previous })
}
