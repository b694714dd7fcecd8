ALTER TABLE items ADD COLUMN note text;
INSERT INTO migration_runs (file) VALUES ('002_items_note.sql');
