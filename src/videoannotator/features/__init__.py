"""Per-clip feature blocks computed at ingest beside the embedder's: camera motion, layout
(shot scale), colour and brightness — what ImageNet classes do not name. ``blocks`` names
them, sizes them and assembles the rows Build trains on."""
