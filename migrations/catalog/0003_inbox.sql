CREATE TABLE `inbox` (
	`message_id` text PRIMARY KEY NOT NULL,
	`consumer` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbox_consumer_event_uq` ON `inbox` (`consumer`,`event_id`);