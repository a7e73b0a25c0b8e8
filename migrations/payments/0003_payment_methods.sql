CREATE TABLE `payment_methods` (
	`id` text PRIMARY KEY NOT NULL,
	`card_fingerprint` text NOT NULL,
	`card_last4` text NOT NULL,
	`verdict` text NOT NULL,
	`decline_code` text,
	`idempotency_key` text,
	`request_fingerprint` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	CONSTRAINT "payment_methods_id_token" CHECK("payment_methods"."id" GLOB 'pm_*'),
	CONSTRAINT "payment_methods_last4_digits" CHECK("payment_methods"."card_last4" GLOB '[0-9][0-9][0-9][0-9]'),
	CONSTRAINT "payment_methods_verdict_known" CHECK("payment_methods"."verdict" IN ('approved', 'declined')),
	CONSTRAINT "payment_methods_decline_code_only_when_declined" CHECK(("payment_methods"."decline_code" IS NULL) = ("payment_methods"."verdict" = 'approved')),
	CONSTRAINT "payment_methods_key_whole" CHECK(("payment_methods"."idempotency_key" IS NULL) = ("payment_methods"."request_fingerprint" IS NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payment_methods_idempotency_key_uq` ON `payment_methods` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `payment_methods_created_idx` ON `payment_methods` (`created_at`);--> statement-breakpoint
ALTER TABLE `payments` ADD `payment_method_id` text REFERENCES payment_methods(id);--> statement-breakpoint
CREATE INDEX `payments_payment_method_idx` ON `payments` (`payment_method_id`);