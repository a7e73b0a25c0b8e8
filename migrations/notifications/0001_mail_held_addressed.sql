PRAGMA foreign_keys=OFF;--> statement-breakpoint
-- Hand-written repair, before the table is rebuilt (drizzle-kit wrote the rest): rows written
-- before payment events named their customer. A notification without a user takes the user
-- another notification of the same order names; a mail without a recipient takes its
-- notification's. A mail still unaddressed (its order names no user yet) is held, never sent or
-- queued without a recipient (mails_addressed): the first held-mail sweep releases it if its user
-- becomes known, or gives it up as undeliverable a day after it was made.
UPDATE `notifications` SET `user_id` = (SELECT `other`.`user_id` FROM `notifications` AS `other` WHERE `other`.`order_id` = `notifications`.`order_id` AND `other`.`user_id` IS NOT NULL LIMIT 1) WHERE `user_id` IS NULL;--> statement-breakpoint
UPDATE `mails` SET `recipient` = (SELECT `notifications`.`user_id` FROM `notifications` WHERE `notifications`.`id` = `mails`.`notification_id`) WHERE `recipient` IS NULL;--> statement-breakpoint
CREATE TABLE `__new_mails` (
	`id` text PRIMARY KEY NOT NULL,
	`notification_id` text NOT NULL,
	`priority` text NOT NULL,
	`template` text NOT NULL,
	`recipient` text,
	`status` text DEFAULT 'queued' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`sent_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`notification_id`) REFERENCES `notifications`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "mails_priority_known" CHECK("__new_mails"."priority" IN ('transactional', 'bulk')),
	CONSTRAINT "mails_status_known" CHECK("__new_mails"."status" IN ('held', 'queued', 'sent', 'undeliverable')),
	CONSTRAINT "mails_addressed" CHECK("__new_mails"."recipient" IS NOT NULL OR "__new_mails"."status" IN ('held', 'undeliverable')),
	CONSTRAINT "mails_sent_shape" CHECK(("__new_mails"."status" = 'sent') = ("__new_mails"."sent_at" IS NOT NULL)),
	CONSTRAINT "mails_attempts_not_negative" CHECK("__new_mails"."attempts" >= 0)
);
--> statement-breakpoint
INSERT INTO `__new_mails`("id", "notification_id", "priority", "template", "recipient", "status", "attempts", "sent_at", "created_at") SELECT "id", "notification_id", "priority", "template", "recipient", CASE WHEN "recipient" IS NULL THEN 'held' ELSE "status" END, "attempts", CASE WHEN "recipient" IS NULL THEN NULL ELSE "sent_at" END, "created_at" FROM `mails`;--> statement-breakpoint
DROP TABLE `mails`;--> statement-breakpoint
ALTER TABLE `__new_mails` RENAME TO `mails`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `mails_notification_idx` ON `mails` (`notification_id`);--> statement-breakpoint
CREATE INDEX `mails_status_idx` ON `mails` (`status`,`priority`);