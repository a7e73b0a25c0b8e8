CREATE TABLE `inbox` (
	`message_id` text PRIMARY KEY NOT NULL,
	`consumer` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbox_consumer_event_uq` ON `inbox` (`consumer`,`event_id`);--> statement-breakpoint
CREATE TABLE `order_summaries` (
	`order_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`total_cents` integer NOT NULL,
	`currency` text NOT NULL,
	`item_count` integer NOT NULL,
	`placed_at` text NOT NULL,
	`settled_at` text
);
--> statement-breakpoint
CREATE INDEX `order_summaries_user_idx` ON `order_summaries` (`user_id`,`placed_at`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`status` text NOT NULL,
	`total_cents` integer NOT NULL,
	`currency` text NOT NULL,
	`items` text NOT NULL,
	`saga` text NOT NULL,
	`reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "orders_total_not_negative" CHECK("orders"."total_cents" >= 0),
	CONSTRAINT "orders_currency_iso" CHECK("orders"."currency" GLOB '[A-Z][A-Z][A-Z]'),
	CONSTRAINT "orders_status_known" CHECK("orders"."status" IN ('PENDING', 'COMPENSATING', 'COMPLETED', 'CANCELLED')),
	CONSTRAINT "orders_items_json" CHECK(json_valid("orders"."items")),
	CONSTRAINT "orders_saga_json" CHECK(json_valid("orders"."saga"))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_user_key_uq` ON `orders` (`user_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `orders_status_idx` ON `orders` (`status`,`created_at`);--> statement-breakpoint
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