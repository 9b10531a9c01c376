{#
    One row per rejected raw row (is_row_rejected) and per unusable field of a kept row.
    Nothing leaves raw silently: raw rows = staged rows + rejected rows, per source.
#}
{{ cdp.quarantine_rows(ref('base_crm__members'), 'crm_members', 'member_id', [
    ['email', 'email_raw', 'email', 'invalid_email'],
    ['phone', 'phone_raw', 'phone', 'invalid_phone'],
    ['birthday', 'birthday_raw', 'birth_date', 'invalid_date'],
    ['registered_at', 'registered_at_raw', 'registered_at', 'invalid_timestamp'],
    ['updated_at', 'updated_at_raw', 'updated_at', 'invalid_timestamp'],
]) }}
union all
{{ cdp.quarantine_rows(ref('base_ecom__orders'), 'ecom_orders', 'order_id', [
    ['buyer_email', 'buyer_email_raw', 'buyer_email', 'invalid_email'],
    ['buyer_phone', 'buyer_phone_raw', 'buyer_phone', 'invalid_phone'],
]) }}
union all
{{ cdp.quarantine_rows(ref('base_ecom__order_items'), 'ecom_order_items', 'order_item_id', []) }}
union all
{{ cdp.quarantine_rows(ref('base_web__events'), 'web_events', 'event_id', []) }}
union all
{{ cdp.quarantine_rows(ref('base_app__events'), 'app_events', 'event_id', []) }}
union all
{{ cdp.quarantine_rows(ref('base_pos__transactions'), 'pos_transactions', 'transaction_id', [
    ['phone', 'phone_raw', 'phone', 'invalid_phone'],
    ['items_count', 'items_count_raw', 'items_count', 'invalid_integer'],
]) }}
union all
{{ cdp.quarantine_rows(ref('base_wechat__followers'), 'wechat_followers', 'openid', [
    ['phone', 'phone_raw', 'phone', 'invalid_phone'],
    ['subscribed_at', 'subscribed_at_raw', 'subscribed_at', 'invalid_timestamp'],
    ['unsubscribed_at', 'unsubscribed_at_raw', 'unsubscribed_at', 'invalid_timestamp'],
]) }}
union all
{{ cdp.quarantine_rows(ref('base_service__tickets'), 'service_tickets', 'ticket_id', [
    ['phone', 'phone_raw', 'phone', 'invalid_phone'],
    ['email', 'email_raw', 'email', 'invalid_email'],
    ['resolved_at', 'resolved_at_raw', 'resolved_at', 'invalid_timestamp'],
    ['satisfaction', 'satisfaction_raw', 'satisfaction_score', 'invalid_score'],
]) }}
union all
{{ cdp.quarantine_rows(ref('base_consent__events'), 'consent_events', 'consent_event_id', []) }}
union all
{{ cdp.quarantine_rows(ref('base_privacy__deletion_requests'), 'deletion_requests', 'request_id', [
    ['requested_at', 'requested_at_raw', 'requested_at', 'invalid_timestamp'],
]) }}
