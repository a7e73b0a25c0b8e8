CREATE INDEX `inbox_received_idx` ON `inbox` (`received_at`);--> statement-breakpoint
CREATE INDEX `reservations_updated_idx` ON `reservations` (`updated_at`);