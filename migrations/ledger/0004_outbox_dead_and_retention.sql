ALTER TABLE `outbox` ADD `dead_at` integer;--> statement-breakpoint
CREATE INDEX `outbox_sent_idx` ON `outbox` (`sent_at`);