CREATE TABLE `inbox` (
	`message_id` text PRIMARY KEY NOT NULL,
	`consumer` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbox_consumer_event_uq` ON `inbox` (`consumer`,`event_id`);--> statement-breakpoint
CREATE TABLE `mails` (
	`id` text PRIMARY KEY NOT NULL,
	`notification_id` text NOT NULL,
	`priority` text NOT NULL,
	`template` text NOT NULL,
	`recipient` text,
	`status` text DEFAULT 'queued' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`sent_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`notification_id`) REFERENCES `notifications`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "mails_priority_known" CHECK("mails"."priority" IN ('transactional', 'bulk')),
	CONSTRAINT "mails_status_known" CHECK("mails"."status" IN ('queued', 'sent')),
	CONSTRAINT "mails_sent_shape" CHECK(("mails"."status" = 'sent') = ("mails"."sent_at" IS NOT NULL)),
	CONSTRAINT "mails_attempts_not_negative" CHECK("mails"."attempts" >= 0)
);
--> statement-breakpoint
CREATE INDEX `mails_notification_idx` ON `mails` (`notification_id`);--> statement-breakpoint
CREATE INDEX `mails_status_idx` ON `mails` (`status`,`priority`);--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`kind` text NOT NULL,
	`order_id` text NOT NULL,
	`user_id` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notifications_event_id_uq` ON `notifications` (`event_id`);--> statement-breakpoint
CREATE INDEX `notifications_order_idx` ON `notifications` (`order_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `notifications_kind_idx` ON `notifications` (`kind`);--> statement-breakpoint
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
CREATE INDEX `outbox_pending_idx` ON `outbox` (`sent_at`,`next_attempt_at`);