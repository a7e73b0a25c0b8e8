CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`order_id` text NOT NULL,
	`charge_id` text,
	`amount_cents` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`decline_code` text,
	`card_last4` text,
	`idempotency_key` text NOT NULL,
	`request_fingerprint` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`charge_id`) REFERENCES `payments`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "payments_amount_positive" CHECK("payments"."amount_cents" > 0),
	CONSTRAINT "payments_currency_iso" CHECK("payments"."currency" GLOB '[A-Z][A-Z][A-Z]'),
	CONSTRAINT "payments_kind_known" CHECK("payments"."kind" IN ('charge', 'refund')),
	CONSTRAINT "payments_status_known" CHECK("payments"."status" IN ('succeeded', 'declined', 'failed')),
	CONSTRAINT "payments_decline_code_only_when_declined" CHECK("payments"."decline_code" IS NULL OR "payments"."status" = 'declined'),
	CONSTRAINT "payments_card_last4_digits" CHECK("payments"."card_last4" IS NULL OR "payments"."card_last4" GLOB '[0-9][0-9][0-9][0-9]'),
	CONSTRAINT "payments_kind_shape" CHECK(("payments"."kind" = 'charge' AND "payments"."charge_id" IS NULL AND "payments"."card_last4" IS NOT NULL) OR ("payments"."kind" = 'refund' AND "payments"."charge_id" IS NOT NULL AND "payments"."card_last4" IS NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payments_idempotency_key_uq` ON `payments` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `payments_order_idx` ON `payments` (`order_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `payments_charge_idx` ON `payments` (`charge_id`);