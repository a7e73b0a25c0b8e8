ALTER TABLE `outbox` ADD `dead_at` integer;--> statement-breakpoint
CREATE INDEX `outbox_sent_idx` ON `outbox` (`sent_at`);--> statement-breakpoint
CREATE INDEX `inbox_received_idx` ON `inbox` (`received_at`);--> statement-breakpoint
CREATE INDEX `notifications_created_idx` ON `notifications` (`created_at`);