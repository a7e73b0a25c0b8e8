CREATE TABLE `command_keys` (
	`user_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`account_id` text NOT NULL,
	`fingerprint` text NOT NULL,
	`version` integer NOT NULL,
	`recorded_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `idempotency_key`)
);
--> statement-breakpoint
CREATE INDEX `balances_by_currency_balance` ON `balances` (`currency`,`balance_cents`,`account_id`);