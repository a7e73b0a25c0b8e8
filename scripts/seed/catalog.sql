-- Demo catalog for local development (`npm run dev`). Fixed ids and INSERT OR IGNORE make
-- this safe to run on every start: existing rows, including ones changed by hand, are kept.
INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES
  ('prod_01', 'Trail Running Shoes', 'Lightweight shoes with a grippy outsole for muddy trails.', 12900, 'USD', 40),
  ('prod_02', 'Merino Wool Socks', 'Three pairs of cushioned socks that stay warm when wet.', 2400, 'USD', 200),
  ('prod_03', 'Ultralight Tent', 'Two-person, three-season tent weighing 1.1 kg.', 34900, 'USD', 12),
  ('prod_04', 'Down Sleeping Bag', 'Rated to -5 °C, packs to the size of a loaf of bread.', 28900, 'USD', 18),
  ('prod_05', 'Headlamp 400', '400-lumen rechargeable headlamp with a red night mode.', 4500, 'USD', 75),
  ('prod_06', 'Insulated Bottle', '750 ml steel bottle; keeps drinks cold for 24 hours.', 3200, 'USD', 150),
  ('prod_07', 'Rain Shell Jacket', 'Waterproof, breathable three-layer shell.', 19900, 'USD', 30),
  ('prod_08', 'Camp Stove', 'Compact canister stove that boils a litre in three minutes.', 6900, 'USD', 45),
  ('prod_09', 'Trekking Poles', 'Carbon poles with quick locks, sold as a pair.', 11900, 'USD', 25),
  ('prod_10', 'Daypack 22L', 'A 22-litre pack with a hydration sleeve and hip belt.', 8900, 'USD', 60),
  ('prod_11', 'First Aid Kit', 'Trail kit for two people and up to four days.', 3900, 'USD', 80),
  ('prod_12', 'Water Filter', 'Squeeze filter that removes 99.9999% of bacteria.', 3900, 'USD', 90),
  ('prod_13', 'Camp Mug', 'Double-walled titanium mug, 450 ml.', 2900, 'USD', 120),
  ('prod_14', 'Sleeping Pad', 'Inflatable pad, R-value 4.2, 480 g.', 15900, 'USD', 20),
  ('prod_15', 'Trail Map Set', 'Waterproof maps of five national parks.', 2500, 'USD', 100),
  ('prod_16', 'Climbing Chalk Bag', 'Chalk bag with a brush holder and belt loop.', 1900, 'USD', 70),
  ('prod_17', 'Bear Canister', 'Hard-sided food canister approved for bear country.', 7900, 'USD', 15),
  ('prod_18', 'Solar Charger', '21 W folding solar panel with two USB ports.', 9900, 'USD', 22),
  ('prod_19', 'Gaiters', 'Breathable gaiters that keep trail grit out of shoes.', 3500, 'USD', 55),
  ('prod_20', 'Compass', 'Baseplate compass with a sighting mirror and declination adjust.', 4900, 'USD', 40);
