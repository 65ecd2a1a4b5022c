DROP TABLE token_spends;
DROP TABLE receipt_tokens;
