ALTER TABLE `outbox` ADD `dead_at` integer;--> statement-breakpoint
CREATE INDEX `outbox_sent_idx` ON `outbox` (`sent_at`);--> statement-breakpoint
CREATE INDEX `charge_keys_created_idx` ON `charge_keys` (`created_at`);