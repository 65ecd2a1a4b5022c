//! The database tables as diesel sees them; common SQL types only, so one schema serves
//! SQLite and PostgreSQL (see `migrations/sqlite` and `migrations/postgres`).

diesel::table! {
    units (code) {
        code -> Text,
        name -> Text,
        timezone -> Text,
        parent_code -> Nullable<Text>,
        open_link -> Bool,
        active -> Bool,
        created_at -> Timestamp,
        public_results -> Bool,
        address -> Nullable<Text>,
        city -> Nullable<Text>,
        head_name -> Nullable<Text>,
        head_id -> Nullable<Text>,
        authority -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        website -> Nullable<Text>,
        head_rank -> Nullable<Text>,
        head_title -> Nullable<Text>,
        service_hours -> Nullable<Text>,
    }
}

diesel::table! {
    services (unit_code, code) {
        unit_code -> Text,
        code -> Text,
        name -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        key_hash -> Text,
        role -> Text,
        units -> Text,
        name -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    responses (submission_id) {
        submission_id -> Text,
        content_hash -> Text,
        instrument -> Text,
        instrument_version -> Integer,
        unit_code -> Text,
        service_code -> Nullable<Text>,
        channel -> Text,
        answers -> Text,
        profile -> Nullable<Text>,
        suggestion -> Nullable<Text>,
        received_at -> Timestamp,
        client_time -> Nullable<Timestamp>,
        flags -> Text,
        key_id -> Nullable<Text>,
        started_at -> Nullable<Timestamp>,
        clock_offset_ms -> Nullable<BigInt>,
        device_id -> Nullable<Text>,
    }
}

diesel::table! {
    populations (unit_code, period) {
        unit_code -> Text,
        period -> Text,
        population -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(services -> units (unit_code));
diesel::joinable!(responses -> units (unit_code));
diesel::joinable!(populations -> units (unit_code));

diesel::table! {
    receipt_tokens (token_hash) {
        token_hash -> Text,
        unit_code -> Text,
        service_code -> Nullable<Text>,
        transaction_ref -> Nullable<Text>,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        key_id -> Nullable<Text>,
    }
}

diesel::table! {
    token_spends (token_hash) {
        token_hash -> Text,
        submission_id -> Text,
        spent_at -> Timestamp,
    }
}

diesel::table! {
    report_verifications (code) {
        code -> Text,
        unit_code -> Text,
        period -> Text,
        service_code -> Nullable<Text>,
        mode -> Text,
        instrument -> Text,
        respondents -> BigInt,
        ikm -> Nullable<Text>,
        grade -> Nullable<Text>,
        items -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> Text,
        unit_code -> Text,
        period -> Text,
        item_code -> Text,
        action -> Text,
        owner -> Text,
        due -> Text,
        status -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tallies (unit_code, below, instrument, span, service_code, channel, flags) {
        unit_code -> Text,
        below -> Bool,
        instrument -> Text,
        span -> Text,
        service_code -> Text,
        channel -> Text,
        flags -> Text,
        data -> Binary,
        profile -> Binary,
    }
}

diesel::joinable!(tallies -> units (unit_code));

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    kiosk_devices (key_id, device_id) {
        key_id -> Text,
        device_id -> Text,
        page_version -> Text,
        waiting -> BigInt,
        last_sent_at -> Nullable<Timestamp>,
        clock_offset_ms -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    users (username) {
        username -> Text,
        password_hash -> Text,
        role -> Text,
        units -> Text,
        created_at -> Timestamp,
        password_changed_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        totp_secret -> Nullable<Text>,
        totp_confirmed_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        username -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> Text,
        username -> Text,
        address_hash -> Text,
        at -> Timestamp,
        device_hash -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Text,
        unit_code -> Nullable<Text>,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
    }
}

diesel::table! {
    unit_logos (unit_code) {
        unit_code -> Text,
        content_type -> Text,
        bytes -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    report_narratives (unit_code, period, lang, chapter) {
        unit_code -> Text,
        period -> Text,
        lang -> Text,
        chapter -> Text,
        body -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        unit_code -> Nullable<Text>,
        threshold -> Integer,
        created_at -> Timestamp,
        created_by -> Text,
        active -> Bool,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event -> Text,
        dedupe -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    suggestion_notes (submission_id) {
        submission_id -> Text,
        category -> Nullable<Text>,
        tags -> Text,
        follow_up_id -> Nullable<Text>,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    ombudsman_assessments (unit_code, year) {
        unit_code -> Text,
        year -> Integer,
        score_hundredths -> Integer,
        zone -> Text,
        category -> Nullable<Text>,
        source -> Text,
        recorded_at -> Timestamp,
        recorded_by -> Text,
    }
}

diesel::joinable!(sessions -> users (username));

diesel::table! {
    /// Each submission id once, with its content hash and when it came (on PostgreSQL the
    /// partitioned `responses` cannot hold a unique key without the year).
    submissions (submission_id) {
        submission_id -> Text,
        content_hash -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    /// What `kepuasan archive` wrote to a file, and whether it dropped those rows.
    archives (id) {
        id -> Text,
        before_year -> Integer,
        file -> Text,
        rows -> BigInt,
        sha256 -> Text,
        dropped -> Bool,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    submissions,
    archives,
    units,
    services,
    api_keys,
    responses,
    populations,
    receipt_tokens,
    token_spends,
    report_verifications,
    follow_ups,
    tallies,
    kiosk_devices,
    users,
    sessions,
    sign_in_failures,
    audit_log,
    unit_logos,
    report_narratives,
    webhooks,
    webhook_deliveries,
    suggestion_notes,
    ombudsman_assessments
);
