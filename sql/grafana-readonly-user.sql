-- The read-only MySQL user Grafana's data source connects as.
--
-- Not a numbered migration: creating users needs an administrator, while
-- `controller migrate` runs as the controller's own (non-admin) user.
-- Run it once per database, as an administrator, connected to the userprobe
-- database, with the password in the session variable @grafana_password.
-- Keep the password off every command line (`ps` shows arguments to every
-- user of the machine): read it from a file only you can read, and send it on
-- standard input ahead of this file, as hex so that any character is safe;
-- mysql prompts for the administrator's own password (-p without a value):
--
--   { printf "SET @grafana_password = CONVERT(UNHEX('"; tr -d '\n' < grafana-password | od -An -v -tx1 | tr -d ' \n'
--     printf "') USING utf8mb4);\n"; cat sql/grafana-readonly-user.sql; } | mysql -h HOST -u root -p userprobe
--
-- grafana-password is a file your secret store writes, or one you write with
-- `umask 077; read -rs p; printf '%s' "$p" > grafana-password`.
-- (The client stops at the first error.)
-- Optional: SET @grafana_user = 'name' first (default 'userprobe_grafana') and
-- @grafana_host (default '%'). Re-running it is safe: it also resets the password.
-- The same value goes to Grafana as USERPROBE_GRAFANA_MYSQL_PASSWORD (see grafana/README.md).

SET @grafana_user = COALESCE(@grafana_user, 'userprobe_grafana');
SET @grafana_host = COALESCE(@grafana_host, '%');
SET @grafana_db = DATABASE();

-- Refuse to create a user without a password, or outside a database.
SET @stmt = IF(@grafana_password IS NULL OR @grafana_password = '' OR @grafana_db IS NULL,
  'SIGNAL SQLSTATE ''45000'' SET MESSAGE_TEXT = ''set @grafana_password (non-empty) and connect to the userprobe database first''',
  'DO 0');
PREPARE s FROM @stmt;
EXECUTE s;
DEALLOCATE PREPARE s;

SET @stmt = CONCAT('CREATE USER IF NOT EXISTS ', QUOTE(@grafana_user), '@', QUOTE(@grafana_host), ' IDENTIFIED BY ', QUOTE(@grafana_password));
PREPARE s FROM @stmt;
EXECUTE s;
DEALLOCATE PREPARE s;

SET @stmt = CONCAT('ALTER USER ', QUOTE(@grafana_user), '@', QUOTE(@grafana_host), ' IDENTIFIED BY ', QUOTE(@grafana_password));
PREPARE s FROM @stmt;
EXECUTE s;
DEALLOCATE PREPARE s;

-- SELECT only, on this database only.
SET @stmt = CONCAT('GRANT SELECT ON `', REPLACE(@grafana_db, '`', '``'), '`.* TO ', QUOTE(@grafana_user), '@', QUOTE(@grafana_host));
PREPARE s FROM @stmt;
EXECUTE s;
DEALLOCATE PREPARE s;
