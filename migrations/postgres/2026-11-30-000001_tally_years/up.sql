-- Tallies gain a year span (`2026`) beside day, month and quarter, so that a multi-year report
-- reads one span a year. The stored tallies are dropped here; the server rebuilds them from
-- the rows when it starts (tallies::ensure), the years included.
DELETE FROM tallies;
