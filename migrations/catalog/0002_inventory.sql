CREATE TABLE `reservation_items` (
	`reservation_id` text NOT NULL,
	`product_id` text NOT NULL,
	`quantity` integer NOT NULL,
	PRIMARY KEY(`reservation_id`, `product_id`),
	FOREIGN KEY (`reservation_id`) REFERENCES `reservations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`product_id`) REFERENCES `products`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "reservation_items_quantity_positive" CHECK("reservation_items"."quantity" > 0)
);
--> statement-breakpoint
CREATE INDEX `reservation_items_product_idx` ON `reservation_items` (`product_id`);--> statement-breakpoint
CREATE TABLE `reservations` (
	`id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`idempotency_key` text,
	`request_fingerprint` text,
	`items` text,
	`release_token` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	CONSTRAINT "reservations_status_known" CHECK("reservations"."status" IN ('reserved', 'committed', 'released', 'refused')),
	CONSTRAINT "reservations_tombstone_shape" CHECK("reservations"."status" = 'released' OR ("reservations"."idempotency_key" IS NOT NULL AND "reservations"."request_fingerprint" IS NOT NULL AND "reservations"."items" IS NOT NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reservations_idempotency_key_uq` ON `reservations` (`idempotency_key`);--> statement-breakpoint
ALTER TABLE `products` ADD `units_sold` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `products_popular_idx` ON `products` (`units_sold`,`views`);