PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_orders` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`status` text NOT NULL,
	`total_cents` integer NOT NULL,
	`currency` text NOT NULL,
	`items` text NOT NULL,
	`saga` text NOT NULL,
	`reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "orders_total_not_negative" CHECK("__new_orders"."total_cents" >= 0),
	CONSTRAINT "orders_currency_iso" CHECK("__new_orders"."currency" GLOB '[A-Z][A-Z][A-Z]'),
	CONSTRAINT "orders_status_known" CHECK("__new_orders"."status" IN ('PENDING', 'COMPENSATING', 'STUCK', 'COMPLETED', 'CANCELLED')),
	CONSTRAINT "orders_items_json" CHECK(json_valid("__new_orders"."items")),
	CONSTRAINT "orders_saga_json" CHECK(json_valid("__new_orders"."saga"))
);
--> statement-breakpoint
INSERT INTO `__new_orders`("id", "user_id", "idempotency_key", "status", "total_cents", "currency", "items", "saga", "reason", "created_at", "updated_at") SELECT "id", "user_id", "idempotency_key", "status", "total_cents", "currency", "items", "saga", "reason", "created_at", "updated_at" FROM `orders`;--> statement-breakpoint
DROP TABLE `orders`;--> statement-breakpoint
ALTER TABLE `__new_orders` RENAME TO `orders`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `orders_user_key_uq` ON `orders` (`user_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `orders_status_idx` ON `orders` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `orders_updated_idx` ON `orders` (`status`,`updated_at`);--> statement-breakpoint
ALTER TABLE `outbox` ADD `dead_at` integer;--> statement-breakpoint
CREATE INDEX `outbox_sent_idx` ON `outbox` (`sent_at`);--> statement-breakpoint
CREATE INDEX `inbox_received_idx` ON `inbox` (`received_at`);