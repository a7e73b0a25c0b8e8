CREATE TABLE `charge_keys` (
	`idempotency_key` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`order_id` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	CONSTRAINT "charge_keys_kind_known" CHECK("charge_keys"."kind" IN ('charge', 'void'))
);
--> statement-breakpoint
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
CREATE TABLE `refund_totals` (
	`charge_id` text PRIMARY KEY NOT NULL,
	`charged_cents` integer NOT NULL,
	`refunded_cents` integer NOT NULL,
	FOREIGN KEY (`charge_id`) REFERENCES `payments`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "refund_totals_within_charge" CHECK("refund_totals"."refunded_cents" BETWEEN 0 AND "refund_totals"."charged_cents")
);
