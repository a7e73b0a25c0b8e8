CREATE TABLE `balances` (
	`account_id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`currency` text NOT NULL,
	`balance_cents` integer NOT NULL,
	`status` text NOT NULL,
	`version` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `balances_by_balance` ON `balances` (`balance_cents`,`account_id`);--> statement-breakpoint
CREATE TABLE `balances_rebuild` (
	`account_id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`currency` text NOT NULL,
	`balance_cents` integer NOT NULL,
	`status` text NOT NULL,
	`version` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `projection_checkpoints` (
	`name` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL,
	CONSTRAINT "projection_checkpoints_position_non_negative" CHECK("projection_checkpoints"."position" >= 0)
);
--> statement-breakpoint
CREATE TABLE `transactions` (
	`account_id` text NOT NULL,
	`version` integer NOT NULL,
	`type` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`balance_after_cents` integer NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `transactions_rebuild` (
	`account_id` text NOT NULL,
	`version` integer NOT NULL,
	`type` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`balance_after_cents` integer NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `version`)
);
