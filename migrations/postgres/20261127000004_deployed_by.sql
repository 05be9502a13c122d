-- Who deployed a version (the owner's e-mail at the time), for the version history.
ALTER TABLE agent_versions ADD COLUMN deployed_by TEXT;
