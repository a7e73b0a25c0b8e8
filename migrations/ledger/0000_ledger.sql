CREATE TABLE `events` (
	`global_position` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`stream_id` text NOT NULL,
	`version` integer NOT NULL,
	`type` text NOT NULL,
	`data` text NOT NULL,
	`metadata` text NOT NULL,
	`recorded_at` integer NOT NULL,
	CONSTRAINT "events_version_positive" CHECK("events"."version" >= 1),
	CONSTRAINT "events_data_json" CHECK(json_valid("events"."data")),
	CONSTRAINT "events_metadata_json" CHECK(json_valid("events"."metadata"))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_stream_version_unique` ON `events` (`stream_id`,`version`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`destination` text NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`sent_at` integer,
	`message_ids` text,
	`claimed_by` text,
	`claimed_until` integer,
	CONSTRAINT "outbox_attempts_non_negative" CHECK("outbox"."attempts" >= 0),
	CONSTRAINT "outbox_destination_json" CHECK(json_valid("outbox"."destination")),
	CONSTRAINT "outbox_body_json" CHECK(json_valid("outbox"."body")),
	CONSTRAINT "outbox_sent_has_message_ids" CHECK("outbox"."sent_at" IS NULL OR "outbox"."message_ids" IS NOT NULL),
	CONSTRAINT "outbox_claim_whole" CHECK(("outbox"."claimed_by" IS NULL) = ("outbox"."claimed_until" IS NULL))
);
--> statement-breakpoint
CREATE INDEX `outbox_pending_idx` ON `outbox` (`sent_at`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `snapshots` (
	`stream_id` text NOT NULL,
	`version` integer NOT NULL,
	`schema_version` integer NOT NULL,
	`state` text NOT NULL,
	`taken_at` integer NOT NULL,
	PRIMARY KEY(`stream_id`, `version`),
	CONSTRAINT "snapshots_version_positive" CHECK("snapshots"."version" >= 1),
	CONSTRAINT "snapshots_state_json" CHECK(json_valid("snapshots"."state"))
);
