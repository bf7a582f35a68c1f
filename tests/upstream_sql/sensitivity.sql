-- Stand-in sensitivity: regulated / confidential from detected types, internal when scanned and clean.
update usage set sensitivity = case
    when pii_types is null then null
    when list_has_any(pii_types, ['CREDIT_CARD', 'US_SSN', 'IBAN_CODE', 'US_DRIVER_LICENSE']) then 'regulated'
    when len(pii_types) > 0 then 'confidential'
    else 'internal'
end
