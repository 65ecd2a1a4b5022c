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

// ---- suggestions: their category, tags and the plan that acts on them -----------------------

/// A suggestion's note as its unit's staff left it: the item it is about, free tags, and the
/// follow-up plan that acts on it ("ditindaklanjuti"), published with the plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestionNote {
    /// The response that carries the suggestion.
    pub id: String,
    /// The item it is about (its code, such as U3), the fixed category.
    pub category: Option<String>,
    /// Free tags, lower case.
    pub tags: Vec<String>,
    /// The follow-up plan that acts on it.
    pub follow_up: Option<String>,
    /// When it was noted (UTC).
    pub updated_at: NaiveDateTime,
    /// Who noted it.
    pub updated_by: String,
}

fn tag_words(values: &[String]) -> Result<(), validator::ValidationError> {
    if values
        .iter()
        .any(|t| t.trim().is_empty() || t.chars().count() > 30 || t.contains(','))
    {
        return Err(rules::problem(
            "each tag is 1 to 30 characters, without commas",
        ));
    }
    Ok(())
}

/// Body of `PATCH /api/v1/suggestions/{id}`: the fields to change; `null` clears one.
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The item code it is about (U1 to U9 for SKM 2017), or null.
    #[serde(default, with = "crate::domain::units::double_option")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// Free tags (at most 5, each 1 to 30 characters); an empty list clears them.
    #[validate(
        length(max = 5, message = "at most 5 tags"),
        custom(function = "tag_words")
    )]
    pub tags: Option<Vec<String>>,
    /// The id of the unit's follow-up plan that acts on it ("ditindaklanjuti"), or null.
    #[serde(default, with = "crate::domain::units::double_option")]
    #[schema(value_type = Option<String>)]
    pub follow_up: Option<Option<String>>,
}

/// The unit and instrument of the response carrying suggestion `id`; 404 when there is no
/// such suggestion.
pub fn suggestion_of(conn: &mut DbConn, id: &str) -> Result<(String, String), AppError> {
    use crate::db::schema::responses;
    let found: Option<(String, String, Option<String>)> = responses::table
        .find(id.to_ascii_lowercase())
        .select((
            responses::unit_code,
            responses::instrument,
            responses::suggestion,
        ))
        .first(conn)
        .optional()?;
    match found {
        Some((unit, instrument, Some(text))) if !text.trim().is_empty() => Ok((unit, instrument)),
        _ => Err(AppError::not_found(format!("no suggestion `{id}`"))),
    }
}

/// A note as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::suggestion_notes)]
struct NoteRow {
    submission_id: String,
    category: Option<String>,
    tags: String,
    follow_up_id: Option<String>,
    updated_at: NaiveDateTime,
    updated_by: String,
}

fn note_of(row: NoteRow) -> SuggestionNote {
    SuggestionNote {
        id: row.submission_id,
        category: row.category,
        tags: row
            .tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        follow_up: row.follow_up_id,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    }
}

/// Notes a suggestion of `unit` (the caller may read the unit): its category must be one of
/// the instrument's items, its plan one of the unit's.
pub fn note(
    conn: &mut DbConn,
    instrument: &Instrument,
    id: &str,
    unit: &str,
    req: &NoteRequest,
    actor: &str,
    now: NaiveDateTime,
) -> Result<SuggestionNote, AppError> {
    use crate::db::schema::suggestion_notes as notes;
    let id = id.to_ascii_lowercase();
    if let Some(Some(category)) = &req.category
        && !instrument.items.iter().any(|i| &i.code == category)
    {
        return Err(AppError::field(
            "category",
            format!("`{category}` is not an item of {}", instrument.key),
        ));
    }
    if let Some(Some(plan)) = &req.follow_up
        && find(conn, plan)?.is_none_or(|p| p.unit_code != unit)
    {
        return Err(AppError::field(
            "follow_up",
            "not a follow-up plan of the suggestion's unit",
        ));
    }
    crate::db::write_tx(conn, |conn| {
        let was: Option<NoteRow> = notes::table
            .find(&id)
            .select(NoteRow::as_select())
            .first(conn)
            .optional()?;
        let was = was.map(note_of);
        let category = match &req.category {
            Some(c) => c.clone(),
            None => was.as_ref().and_then(|w| w.category.clone()),
        };
        let tags: Vec<String> = match &req.tags {
            Some(t) => {
                let mut t: Vec<String> = t.iter().map(|t| t.trim().to_lowercase()).collect();
                t.sort();
                t.dedup();
                t
            }
            None => was.as_ref().map(|w| w.tags.clone()).unwrap_or_default(),
        };
        let follow_up = match &req.follow_up {
            Some(f) => f.clone(),
            None => was.as_ref().and_then(|w| w.follow_up.clone()),
        };
        diesel::delete(notes::table.find(&id)).execute(conn)?;
        diesel::insert_into(notes::table)
            .values((
                notes::submission_id.eq(&id),
                notes::category.eq(&category),
                notes::tags.eq(tags.join(",")),
                notes::follow_up_id.eq(&follow_up),
                notes::updated_at.eq(now),
                notes::updated_by.eq(actor),
            ))
            .execute(conn)?;
        Ok(SuggestionNote {
            id: id.clone(),
            category,
            tags,
            follow_up,
            updated_at: now,
            updated_by: actor.to_owned(),
        })
    })
}

/// The notes of some suggestions, with the plans they point to, by response id.
pub fn notes_of(
    conn: &mut DbConn,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, (SuggestionNote, Option<FollowUp>)>, AppError> {
    use crate::db::schema::suggestion_notes as notes;
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(NoteRow, Option<FollowUp>)> = notes::table
            .left_join(follow_ups::table.on(notes::follow_up_id.eq(follow_ups::id.nullable())))
            .filter(notes::submission_id.eq_any(chunk))
            .select((NoteRow::as_select(), Option::<FollowUp>::as_select()))
            .load(conn)?;
        for (row, plan) in rows {
            let note = note_of(row);
            out.insert(note.id.clone(), (note, plan));
        }
    }
    Ok(out)
}
