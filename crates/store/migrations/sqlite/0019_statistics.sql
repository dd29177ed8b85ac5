-- The agency dashboard's aggregates (counts, never a person).
--
-- `region`: the 6-digit administrative division code the person's ID number
-- was issued under, in clear. The ID number itself stays encrypted; a
-- district code names thousands of people, so counting by it reveals no
-- one. Written with every new person; rows stored before this migration
-- are NULL until the jobs' back-fill (chengxin-jobs `stats::backfill_regions`,
-- run when a context is opened) decrypts their ID number and writes it.
ALTER TABLE persons ADD COLUMN region TEXT;
-- Counting by region reads this index only; the back-fill finds the NULLs in it.
CREATE INDEX persons_region ON persons (region);
-- Records received per unit per day over the last days: a range of this
-- index, never the whole table.
CREATE INDEX records_received ON records (received_at, unit);
