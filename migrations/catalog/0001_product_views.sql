ALTER TABLE `products` ADD `views` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `products_views_idx` ON `products` (`views`,`id`);