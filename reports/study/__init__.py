"""The detection-rate study: a TOML file (config) run in one resumable batch (run): corpora
(corpora), detectors fitted and scored (detectors, detection), bootstrap statistics (statistics),
written as the tables of reports/schema.py and then rendered."""
