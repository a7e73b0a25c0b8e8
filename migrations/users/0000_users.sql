CREATE TABLE `login_attempts` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL,
	CONSTRAINT "login_attempts_count_positive" CHECK("login_attempts"."count" > 0)
);
--> statement-breakpoint
CREATE INDEX `login_attempts_window_idx` ON `login_attempts` (`window_start`);--> statement-breakpoint
CREATE TABLE `refresh_families` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`revoked_at` text,
	`revoked_reason` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "refresh_families_revocation_shape" CHECK(("refresh_families"."revoked_at" IS NULL) = ("refresh_families"."revoked_reason" IS NULL)),
	CONSTRAINT "refresh_families_reason_known" CHECK("refresh_families"."revoked_reason" IS NULL OR "refresh_families"."revoked_reason" IN ('logout', 'reuse'))
);
--> statement-breakpoint
CREATE INDEX `refresh_families_user_idx` ON `refresh_families` (`user_id`);--> statement-breakpoint
CREATE TABLE `refresh_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`family_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`spent_at` text,
	`replaced_by` text,
	FOREIGN KEY (`family_id`) REFERENCES `refresh_families`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "refresh_tokens_hash_hex" CHECK(length("refresh_tokens"."token_hash") = 64 AND "refresh_tokens"."token_hash" NOT GLOB '*[^0-9a-f]*'),
	CONSTRAINT "refresh_tokens_spent_shape" CHECK(("refresh_tokens"."spent_at" IS NULL) = ("refresh_tokens"."replaced_by" IS NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `refresh_tokens_hash_uq` ON `refresh_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `refresh_tokens_family_idx` ON `refresh_tokens` (`family_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `refresh_tokens_replaced_by_uq` ON `refresh_tokens` (`replaced_by`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`password_hash` text NOT NULL,
	`roles` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	CONSTRAINT "users_email_normalised" CHECK("users"."email" = lower(trim("users"."email")) AND length("users"."email") BETWEEN 3 AND 254),
	CONSTRAINT "users_roles_array" CHECK(json_valid("users"."roles") AND json_type("users"."roles") = 'array'),
	CONSTRAINT "users_password_hash_format" CHECK("users"."password_hash" GLOB 'pbkdf2-sha256$*$*$*')
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_uq` ON `users` (`email`);